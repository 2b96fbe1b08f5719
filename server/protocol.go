package server

// The JSON shapes of OpenAI's API that Sieve serves. Requests use pointers
// for optional fields so that an absent field and its zero value differ.

import "encoding/json"

// samplingFields are the request fields shared by completions and chat.
type samplingFields struct {
	Model             string         `json:"model"`
	Temperature       *float64       `json:"temperature"`
	TopP              *float64       `json:"top_p"`
	TopK              *int           `json:"top_k"`
	MinP              *float64       `json:"min_p"`
	Seed              *int64         `json:"seed"`
	Stop              stopList       `json:"stop"`
	Stream            bool           `json:"stream"`
	StreamOptions     *streamOptions `json:"stream_options"`
	PresencePenalty   *float64       `json:"presence_penalty"`
	FrequencyPenalty  *float64       `json:"frequency_penalty"`
	RepetitionPenalty *float64       `json:"repetition_penalty"`
	N                 *int           `json:"n"`
	MaxTokens         *int           `json:"max_tokens"`
	// MaxCompletionTokens is OpenAI's newer name for max_tokens; it wins
	// when both are set.
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	// LogitBias maps token ids (as strings) to a bias added to their logits.
	LogitBias map[string]float64 `json:"logit_bias"`
	IgnoreEOS bool               `json:"ignore_eos"`
	// KVPolicy and KVBudget override the server's KV sparsity policy.
	KVPolicy string   `json:"kv_policy"`
	KVBudget *float64 `json:"kv_budget"`
	// KVSinkTokens lists token ids kept like sinks wherever they sit
	// (content-aware sinks); [] turns the server's off.
	KVSinkTokens []int32 `json:"kv_sink_tokens"`
	// structuredFields constrain the form of the output.
	structuredFields
}

// kvOverride returns the request's sparsity override for engine.Request.
func (f *samplingFields) kvOverride() (string, float64) {
	if f.KVBudget == nil {
		return f.KVPolicy, 0
	}
	return f.KVPolicy, *f.KVBudget
}

// requestedTokens returns the requested completion length and the name
// of the field that asked for it.
func (f *samplingFields) requestedTokens() (*int, string) {
	if f.MaxCompletionTokens != nil {
		return f.MaxCompletionTokens, "max_completion_tokens"
	}
	return f.MaxTokens, "max_tokens"
}

// streamOptions is the stream_options request field.
type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// completionRequest is the body of POST /v1/completions.
type completionRequest struct {
	samplingFields
	Prompt   prompt `json:"prompt"`
	Logprobs *int   `json:"logprobs"`
	Echo     bool   `json:"echo"`
}

// chatRequest is the body of POST /v1/chat/completions.
type chatRequest struct {
	samplingFields
	Messages    []chatMessage `json:"messages"`
	Logprobs    *bool         `json:"logprobs"`
	TopLogprobs *int          `json:"top_logprobs"`
	toolFields
}

// chatMessage is one message of a chat request.
type chatMessage struct {
	Role    string      `json:"role"`
	Content chatContent `json:"content"`
	Name    string      `json:"name,omitempty"`
	// ToolCalls are an assistant message's calls (its content may then be
	// null); ToolCallID is the call a "tool" message answers.
	ToolCalls  []toolCall `json:"tool_calls"`
	ToolCallID string     `json:"tool_call_id"`
}

// usage is the token count of a response.
type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	// KV cache entries kept and evicted by the request's sparsity policy,
	// summed over layers, at the end of the request.
	KVTokensKept    int `json:"kv_tokens_kept"`
	KVTokensEvicted int `json:"kv_tokens_evicted"`
	// PromptTokensDetails says how many prompt tokens came from the prefix
	// cache.
	PromptTokensDetails promptTokensDetails `json:"prompt_tokens_details"`
}

// promptTokensDetails is OpenAI's breakdown of a response's prompt tokens.
type promptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// response is a completions or chat response or stream chunk with choices
// of type C.
type response[C any] struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []C    `json:"choices"`
	Usage   *usage `json:"usage"`
}

// completionResponse is a /v1/completions response or stream chunk.
type completionResponse = response[completionChoice]

// completionChoice is one choice of a completion.
type completionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	Logprobs     *completionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
}

// completionLogprobs is the legacy completions logprobs object.
type completionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float32            `json:"token_logprobs"`
	TopLogprobs   []map[string]float32 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// chatResponse is a /v1/chat/completions response or stream chunk.
type chatResponse = response[chatChoice]

// chatChoice is one choice of a chat response: Message when whole, Delta
// when streamed.
type chatChoice struct {
	Index        int           `json:"index"`
	Message      *chatOutput   `json:"message,omitempty"`
	Delta        *chatOutput   `json:"delta,omitempty"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

// chatOutput is an assistant message, or a streamed piece of one.
type chatOutput struct {
	Role      string     `json:"role,omitempty"`
	Content   *string    `json:"content,omitempty"`
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
}

// MarshalJSON writes a whole message's role and content even when the
// content is null (a message that only calls tools), as OpenAI does; a
// delta leaves out what it does not carry.
func (c chatChoice) MarshalJSON() ([]byte, error) {
	type plain chatChoice
	if c.Message == nil {
		return json.Marshal(plain(c))
	}
	return json.Marshal(struct {
		Index        int              `json:"index"`
		Message      assistantMessage `json:"message"`
		Logprobs     *chatLogprobs    `json:"logprobs"`
		FinishReason *string          `json:"finish_reason"`
	}{c.Index, assistantMessage(*c.Message), c.Logprobs, c.FinishReason})
}

// assistantMessage is chatOutput as a whole message is written.
type assistantMessage struct {
	Role      string     `json:"role"`
	Content   *string    `json:"content"`
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
}

// chatLogprobs is the chat logprobs object.
type chatLogprobs struct {
	Content []chatTokenLogprob `json:"content"`
}

// chatTokenLogprob is one sampled token with its alternatives.
type chatTokenLogprob struct {
	Token       string           `json:"token"`
	Logprob     float32          `json:"logprob"`
	Bytes       []int            `json:"bytes"`
	TopLogprobs []chatTopLogprob `json:"top_logprobs"`
}

// chatTopLogprob is one alternative token.
type chatTopLogprob struct {
	Token   string  `json:"token"`
	Logprob float32 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// modelList is the body of GET /v1/models.
type modelList struct {
	Object string      `json:"object"`
	Data   []modelCard `json:"data"`
}

// modelCard describes the served model.
type modelCard struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Created     int64  `json:"created"`
	OwnedBy     string `json:"owned_by"`
	MaxModelLen int    `json:"max_model_len,omitempty"`
}
