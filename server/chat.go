package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"sieve/engine"
)

// handleChat serves POST /v1/chat/completions.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, b *backend) {
	start := time.Now()
	var req chatRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.fail(w, r, fromEngine(err))
		return
	}
	if manyChoices(req.N, 1) {
		s.chatChoices(w, r, b, &req, start)
		return
	}
	ereq, ae := s.chatRequest(r, b, &req)
	if ae != nil {
		s.fail(w, r, ae)
		return
	}
	g, ae := s.submit(r, b, ereq, start)
	if ae != nil {
		s.fail(w, r, ae)
		return
	}
	resp := chatResponse{
		ID: "chatcmpl-" + requestID(r.Context()), Object: "chat.completion", Created: start.Unix(), Model: s.cfg.ModelName,
	}
	if req.Stream {
		resp.Object = "chat.completion.chunk"
		s.streamChat(w, g, resp, ereq.Logprobs, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	var text strings.Builder
	lps := []chatTokenLogprob{}
	var final engine.Event
	defer func() { g.close(final) }()
	final, ok := g.collect(func(ev engine.Event) {
		text.WriteString(ev.Text)
		if ereq.Logprobs {
			lps = append(lps, chatLP(ev.Logprobs)...)
		}
	})
	if !ok {
		return
	}
	if final.Finish == engine.FinishError {
		s.fail(w, r, generationError(final))
		return
	}
	content := text.String()
	choice := chatChoice{Message: &chatOutput{Role: "assistant", Content: &content}, FinishReason: finishReason(final.Finish)}
	if ereq.Logprobs {
		choice.Logprobs = &chatLogprobs{Content: lps}
	}
	resp.Choices = []chatChoice{choice}
	resp.Usage = usageOf(final.Usage)
	writeJSON(w, http.StatusOK, resp)
}

// chatRequest validates req, renders the conversation and builds the
// engine request.
func (s *Server) chatRequest(r *http.Request, b *backend, req *chatRequest) (engine.Request, *apiError) {
	var ereq engine.Request
	if ae := s.checkModel(req.Model); ae != nil {
		return ereq, ae
	}
	params, ae := req.sampling()
	if ae != nil {
		return ereq, ae
	}
	ids, ae := chatPrompt(r.Context(), b, req.Messages)
	if ae != nil {
		return ereq, ae
	}
	requested, param := req.MaxTokens, "max_tokens"
	if req.MaxCompletionTokens != nil {
		requested, param = req.MaxCompletionTokens, "max_completion_tokens"
	}
	n, ae := maxTokens(requested, param, "messages", 0, len(ids), b.ContextLen)
	if ae != nil {
		return ereq, ae
	}
	ereq = engine.Request{
		ID: requestID(r.Context()), Prompt: ids, Params: params, MaxTokens: n,
		Stop: req.Stop, IgnoreEOS: req.IgnoreEOS,
	}
	ereq.KVPolicy, ereq.KVBudget = req.kvOverride()
	ereq.KVSinkTokens = req.KVSinkTokens
	if req.TopLogprobs != nil {
		k := *req.TopLogprobs
		if k < 0 || k > engine.MaxTopLogprobs {
			return ereq, badRequest("top_logprobs", "top_logprobs must be between 0 and %d, got %d", engine.MaxTopLogprobs, k)
		}
		if req.Logprobs == nil || !*req.Logprobs {
			return ereq, badRequest("top_logprobs", "top_logprobs requires logprobs to be true")
		}
		ereq.TopLogprobs = k
	}
	ereq.Logprobs = req.Logprobs != nil && *req.Logprobs
	return ereq, nil
}

// chatPrompt renders the messages with the chat template and tokenizes the
// result: the template's special-token text becomes special tokens, the
// messages' own is plain text (unless --parse-special-in-content), and BOS
// comes first only when the model wants it and the template did not
// already write it.
func chatPrompt(ctx context.Context, b *backend, in []chatMessage) ([]int32, *apiError) {
	if len(in) == 0 {
		return nil, badRequest("messages", "messages must not be empty")
	}
	if len(in) > maxMessages {
		return nil, badRequest("messages", "at most %d messages are supported, got %d", maxMessages, len(in))
	}
	msgs := make([]message, len(in))
	total := 0
	var found []string // special-token texts of the content, escaped (see specialSet)
	for i, m := range in {
		if m.Role == "" {
			return nil, badRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d] has no role", i)
		}
		content, err := m.Content.String()
		if err != nil {
			return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "messages[%d]: %v", i, err)
		}
		if total += len(content); total > b.maxTextBytes {
			return nil, textTooLong(b, "messages", total)
		}
		if b.specials != nil {
			content = b.specials.escape(content, &found)
		}
		msgs[i] = message{Role: m.Role, Content: content, Name: m.Name}
	}
	text, err := b.chat.render(ctx, msgs)
	switch {
	case errors.Is(err, errTemplateLimit):
		return nil, &apiError{status: http.StatusInternalServerError, kind: typeServer, code: "chat_template_error", message: err.Error()}
	case errors.Is(err, context.Canceled):
		return nil, fromEngine(err)
	case err != nil:
		return nil, badRequest("messages", "%v", err)
	}
	if len(text) > b.maxTextBytes {
		return nil, textTooLong(b, "messages", len(text))
	}
	addBOS := b.addBOS && (b.bos == "" || !strings.HasPrefix(text, b.bos))
	ids := encodeRendered(b.Tokenizer, text, found, addBOS)
	if len(ids) == 0 {
		return nil, badRequest("messages", "the conversation renders to no tokens")
	}
	return ids, nil
}

// streamChat sends a chat completion as server-sent events: a first chunk
// with the role, then the content, then the finish reason.
func (s *Server) streamChat(w http.ResponseWriter, g *generation, chunk chatResponse, logprobs, includeUsage bool) {
	var final engine.Event
	defer func() { g.close(final) }()
	out := startSSE(w)
	send := func(delta chatOutput, lps []engine.TokenLogprobs, finish *string) error {
		c := chunk
		choice := chatChoice{Delta: &delta, FinishReason: finish}
		if logprobs && len(lps) > 0 {
			choice.Logprobs = &chatLogprobs{Content: chatLP(lps)}
		}
		c.Choices = []chatChoice{choice}
		return out.send(c)
	}
	empty := ""
	if send(chatOutput{Role: "assistant", Content: &empty}, nil, nil) != nil {
		return
	}
	var ok bool
	final, ok = relay(out, g, func(ev engine.Event, finish *string) error {
		var delta chatOutput
		if ev.Text != "" {
			text := ev.Text
			delta.Content = &text
		}
		if delta.Content == nil && finish == nil && !(logprobs && len(ev.Logprobs) > 0) {
			return nil
		}
		return send(delta, ev.Logprobs, finish)
	})
	if !ok {
		return
	}
	endStream(out, includeUsage, final, chunk)
}
