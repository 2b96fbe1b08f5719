package engine

import "errors"

// Errors the engine returns; callers (the HTTP server) branch on them.
var (
	// ErrQueueFull: the waiting queue is at its bound; retry later (HTTP 429).
	ErrQueueFull = errors.New("engine: waiting queue is full")
	// ErrTooLong: prompt plus max_tokens exceed the context or the KV pool (HTTP 400).
	ErrTooLong = errors.New("engine: request exceeds the context length")
	// ErrBadRequest: the request is malformed (empty prompt, max_tokens < 0, bad token id).
	ErrBadRequest = errors.New("engine: invalid request")
	// ErrClosed: the engine is shutting down.
	ErrClosed = errors.New("engine: closed")
	// ErrKVTooLarge: the configured KV pool is larger than the available
	// memory (New fails with it rather than be killed by the kernel).
	ErrKVTooLarge = errors.New("engine: the KV cache pool does not fit in the available memory")
)

// Request is one generation request, already tokenized.
type Request struct {
	ID     string  // caller's id, for logs
	Prompt []int32 // prompt token ids (with BOS if the model wants it)
	Params SamplingParams
	// MaxTokens bounds the generated tokens; 0 means the rest of the context.
	MaxTokens int
	// Stop strings end generation; the matched text is not returned.
	Stop []string
	// IgnoreEOS keeps generating past stop tokens (benchmarks).
	IgnoreEOS bool
	// Logprobs asks for the log-probability of each sampled token and of the
	// TopLogprobs most likely alternatives (0: none).
	Logprobs    bool
	TopLogprobs int
	// ReturnLogits copies each generated token's raw logits into
	// Event.Logits (for tests and analysis; costs a vocabulary-sized copy
	// per token).
	ReturnLogits bool
	// KVPolicy and KVBudget override the engine's default KV eviction
	// policy and budget (see sparsity.Spec.Override); "" and 0 keep it.
	KVPolicy string
	KVBudget float64
	// KVSinkTokens lists token ids kept like sinks wherever they sit
	// (content-aware sinks, see sparsity.Spec.WithSinkTokens): nil keeps
	// the engine's, empty turns them off.
	KVSinkTokens []int32
	// Forced, when not empty, teacher-forces the continuation: after the
	// prompt, these tokens are fed one per decode step instead of sampled
	// ones (stop tokens and stop strings are ignored), and the sequence
	// ends with FinishLength once the logits after the last one are
	// computed. With ReturnLogits that gives len(Forced)+1 rows of logits,
	// the first from the prompt's last position, the last in the final
	// event (which carries no token); Logprobs scores the forced tokens.
	// MaxTokens must be 0 (len(Forced)) or at least len(Forced): past the
	// forced tokens the sequence goes on sampling, stop tokens included, up
	// to MaxTokens in all (a question fed through decode over a context
	// compressed before it, then its answer).
	Forced []int32
	// Constraint, when set, restricts the generated tokens (constrained
	// decoding): each step's logits are masked before sampling, the
	// sequence ends with FinishStop once the constraint is complete, and
	// logprobs report the model's distribution before the mask. It is
	// this request's own; it cannot go with Forced.
	Constraint Constraint
}

// FinishReason says why a sequence ended, in OpenAI's vocabulary.
type FinishReason string

// Finish reasons.
const (
	FinishStop      FinishReason = "stop"      // a stop token or stop string
	FinishLength    FinishReason = "length"    // max_tokens or the context was reached
	FinishCancelled FinishReason = "cancelled" // the caller's context ended
	FinishError     FinishReason = "error"     // an internal error; see Event.Err
)

// TokenLogprob is one candidate token with its log-probability.
type TokenLogprob struct {
	Token   int32
	Text    string
	Logprob float32
}

// Usage counts a request's tokens.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	// CachedTokens is the number of prompt tokens whose keys and values
	// came from the prefix cache when the request was admitted, rather
	// than from its own prefill.
	CachedTokens int
	// KVTokensKept is the number of cached token slots the request holds,
	// summed over layers (final in the last event), and KVTokensEvicted
	// the slots its KV policy evicted, likewise summed. They add up to
	// layers × the tokens cached. A preemption frees everything and starts
	// both over.
	KVTokensKept    int
	KVTokensEvicted int
}

// Event is one step of a request's output stream. The last event of a
// stream has a non-empty Finish; the channel is closed after it.
type Event struct {
	// Tokens generated in this step (usually one) and the text they complete.
	// Text never splits a UTF-8 character and never contains (a prefix of) a
	// stop string that is still undecided; it may be empty.
	Tokens []int32
	Text   string
	// Logprobs per token in Tokens when the request asked for them.
	Logprobs []TokenLogprobs
	// Logits per token in Tokens (the raw next-token logits it was sampled
	// from) when the request asked for them.
	Logits [][]float32
	Finish FinishReason
	Usage  Usage // cumulative
	Err    error // set with FinishError
}

// TokenLogprobs is the log-probability of a sampled token and its top alternatives.
type TokenLogprobs struct {
	TokenLogprob
	Top []TokenLogprob
}
