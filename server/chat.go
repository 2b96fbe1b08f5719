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
	ereq, tools, ae := s.chatRequest(r, b, &req)
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
		s.streamChat(w, g, resp, ereq.Logprobs, req.StreamOptions != nil && req.StreamOptions.IncludeUsage, tools)
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
	content, calls := tools.split(text.String())
	choice := chatChoice{Message: &chatOutput{Role: "assistant", Content: content, ToolCalls: calls}, FinishReason: finishReason(final.Finish)}
	if calls != nil {
		choice.FinishReason = ptr(finishToolCalls)
	}
	if ereq.Logprobs {
		choice.Logprobs = &chatLogprobs{Content: lps}
	}
	resp.Choices = []chatChoice{choice}
	resp.Usage = usageOf(final.Usage)
	writeJSON(w, http.StatusOK, resp)
}

// chatRequest validates req, renders the conversation and builds the
// engine request, and what its output's tool calls are read with.
func (s *Server) chatRequest(r *http.Request, b *backend, req *chatRequest) (ereq engine.Request, tools *toolOutput, ae *apiError) {
	ereq, plan, ae := s.chatEngineRequest(r, b, req)
	if ae != nil || plan.choice == choiceNone {
		return ereq, nil, ae
	}
	if plan.choice == choiceRequired || plan.choice == choiceNamed {
		constrain, ae := s.jsonSchemaConstraint(plan.schemaFor())
		if ae != nil {
			if ae.param == "schema" { // a parameters schema the constraint cannot hold to
				ae.param = "tools"
			}
			return ereq, nil, ae
		}
		constrain(&ereq)
	}
	return ereq, &toolOutput{plan: plan, parser: b.toolParser}, nil
}

// chatEngineRequest validates req, renders the conversation with its
// tools and builds the engine request.
func (s *Server) chatEngineRequest(r *http.Request, b *backend, req *chatRequest) (engine.Request, toolPlan, *apiError) {
	var ereq engine.Request
	if ae := s.checkModel(req.Model); ae != nil {
		return ereq, toolPlan{}, ae
	}
	params, ae := req.sampling(b.Tokenizer.VocabSize())
	if ae != nil {
		return ereq, toolPlan{}, ae
	}
	plan, ae := req.toolFields.plan()
	if ae != nil {
		return ereq, plan, ae
	}
	ids, ae := chatPrompt(r.Context(), b, req.Messages, templateTools(plan.tools))
	if ae != nil {
		return ereq, plan, ae
	}
	requested, param := req.requestedTokens()
	n, ae := maxTokens(requested, param, "messages", 0, len(ids), b.ContextLen)
	if ae != nil {
		return ereq, plan, ae
	}
	ereq = engine.Request{
		ID: requestID(r.Context()), Prompt: ids, Params: params, MaxTokens: n,
		Stop: req.Stop, IgnoreEOS: req.IgnoreEOS,
	}
	ereq.KVPolicy, ereq.KVBudget = req.kvOverride()
	ereq.KVSinkTokens = req.KVSinkTokens
	install, ae := s.constraint(b, &req.structuredFields)
	if ae != nil {
		return ereq, plan, ae
	}
	if install != nil {
		if plan.choice == choiceRequired || plan.choice == choiceNamed {
			return ereq, plan, badRequest("tool_choice", "a required or named tool_choice constrains the output itself; it cannot be combined with response_format or structured_outputs")
		}
		install(&ereq)
	}
	if req.TopLogprobs != nil {
		k := *req.TopLogprobs
		if k < 0 || k > engine.MaxTopLogprobs {
			return ereq, plan, badRequest("top_logprobs", "top_logprobs must be between 0 and %d, got %d", engine.MaxTopLogprobs, k)
		}
		if req.Logprobs == nil || !*req.Logprobs {
			return ereq, plan, badRequest("top_logprobs", "top_logprobs requires logprobs to be true")
		}
		ereq.TopLogprobs = k
	}
	ereq.Logprobs = req.Logprobs != nil && *req.Logprobs
	return ereq, plan, nil
}

// chatPrompt renders the messages with the chat template and tokenizes the
// result: the template's special-token text becomes special tokens, the
// messages' own is plain text (unless --parse-special-in-content), and BOS
// comes first only when the model wants it and the template did not
// already write it.
func chatPrompt(ctx context.Context, b *backend, in []chatMessage, tools []any) ([]int32, *apiError) {
	if len(in) == 0 {
		return nil, badRequest("messages", "messages must not be empty")
	}
	if len(in) > maxMessages {
		return nil, badRequest("messages", "at most %d messages are supported, got %d", maxMessages, len(in))
	}
	msgs := make([]message, len(in))
	total := 0
	var found []string // special-token texts of the content, escaped (see specialSet)
	escape := func(s string) string {
		if b.specials != nil {
			s = b.specials.escape(s, &found)
		}
		return s
	}
	callIDs := map[string]bool{} // ids of the calls made so far
	for i, m := range in {
		if ae := checkMessage(i, m); ae != nil {
			return nil, ae
		}
		content, err := m.Content.String()
		if err != nil {
			return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "messages[%d]: %v", i, err)
		}
		if ae := checkToolMessage(i, m, callIDs); ae != nil {
			return nil, ae
		}
		if total += len(content) + len(m.ToolCallID); total > b.maxTextBytes {
			return nil, textTooLong(b, "messages", total)
		}
		msgs[i] = message{Role: m.Role, Content: escape(content), Name: m.Name, ToolCallID: escape(m.ToolCallID)}
		for _, c := range m.ToolCalls {
			if total += len(c.ID) + len(c.Function.Name) + len(c.Function.Arguments); total > b.maxTextBytes {
				return nil, textTooLong(b, "messages", total)
			}
			msgs[i].ToolCalls = append(msgs[i].ToolCalls, toolCall{ID: escape(c.ID), Type: "function",
				Function: toolCallFunction{Name: c.Function.Name, Arguments: escape(c.Function.Arguments)}})
		}
	}
	text, err := b.chat.render(ctx, msgs, tools)
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
func (s *Server) streamChat(w http.ResponseWriter, g *generation, chunk chatResponse, logprobs, includeUsage bool, tools *toolOutput) {
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
	held := &toolStream{out: tools}
	var ok bool
	final, ok = relay(out, g, func(ev engine.Event, finish *string) error {
		var delta chatOutput
		text, pieces := held.feed(ev.Text)
		if text != "" {
			delta.Content = &text
		}
		for _, p := range pieces {
			if err := send(chatOutput{ToolCalls: []toolCall{p}}, nil, nil); err != nil {
				return err
			}
		}
		if finish != nil {
			rest, calls, called := held.finish()
			if rest != "" || calls != nil {
				if err := sendToolTail(send, delta, rest, calls); err != nil {
					return err
				}
				delta = chatOutput{}
			}
			if called {
				finish = ptr(finishToolCalls)
			}
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
