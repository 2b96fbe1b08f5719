package server

import (
	"net/http"
	"time"
	"unicode/utf8"

	"sieve/engine"
	"sieve/tokenizer"
)

// defaultCompletionTokens is OpenAI's max_tokens default for completions.
const defaultCompletionTokens = 16

// handleCompletions serves POST /v1/completions.
func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request, b *backend) {
	start := time.Now()
	var req completionRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.fail(w, r, fromEngine(err))
		return
	}
	if manyChoices(req.N, len(req.Prompt.Texts)+len(req.Prompt.Tokens)) {
		s.completionChoices(w, r, b, &req, start)
		return
	}
	ereq, echo, ae := s.completionRequest(r, b, &req)
	if ae != nil {
		s.fail(w, r, ae)
		return
	}
	g, ae := s.submit(r, b, ereq, start)
	if ae != nil {
		s.fail(w, r, ae)
		return
	}
	resp := completionResponse{
		ID: "cmpl-" + requestID(r.Context()), Object: "text_completion", Created: start.Unix(), Model: s.cfg.ModelName,
	}
	lp := newCompletionLP(ereq.Logprobs, utf8.RuneCountInString(echo))
	if req.Stream {
		s.streamCompletion(w, g, resp, echo, lp, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	text := []byte(echo)
	var final engine.Event
	defer func() { g.close(final) }()
	final, ok := g.collect(func(ev engine.Event) {
		text = append(text, ev.Text...)
		lp.add(ev.Logprobs)
	})
	if !ok {
		return
	}
	if final.Finish == engine.FinishError {
		s.fail(w, r, generationError(final))
		return
	}
	resp.Choices = []completionChoice{{Text: string(text), Logprobs: lp.all(), FinishReason: finishReason(final.Finish)}}
	resp.Usage = usageOf(final.Usage)
	writeJSON(w, http.StatusOK, resp)
}

// completionRequest validates req and builds the engine request. echo is
// the prompt text to return first when req.Echo is set.
func (s *Server) completionRequest(r *http.Request, b *backend, req *completionRequest) (ereq engine.Request, echo string, ae *apiError) {
	if ae := s.checkModel(req.Model); ae != nil {
		return ereq, "", ae
	}
	params, ae := req.sampling(b.Tokenizer.VocabSize())
	if ae != nil {
		return ereq, "", ae
	}
	ids, text, ae := completionPrompt(b, req.Prompt)
	if ae != nil {
		return ereq, "", ae
	}
	if req.Echo {
		if req.Logprobs != nil {
			return ereq, "", badRequest("echo", "echo together with logprobs is not supported")
		}
		echo = text
	}
	requested, param := req.requestedTokens()
	n, ae := maxTokens(requested, param, "prompt", defaultCompletionTokens, len(ids), b.ContextLen)
	if ae != nil {
		return ereq, "", ae
	}
	ereq = engine.Request{
		ID: requestID(r.Context()), Prompt: ids, Params: params, MaxTokens: n,
		Stop: req.Stop, IgnoreEOS: req.IgnoreEOS,
	}
	ereq.KVPolicy, ereq.KVBudget = req.kvOverride()
	ereq.KVSinkTokens = req.KVSinkTokens
	install, ae := s.constraint(b, &req.structuredFields)
	if ae != nil {
		return ereq, "", ae
	}
	if install != nil {
		install(&ereq)
	}
	if req.Logprobs != nil {
		if k := *req.Logprobs; k < 0 || k > engine.MaxTopLogprobs {
			return ereq, "", badRequest("logprobs", "logprobs must be between 0 and %d, got %d", engine.MaxTopLogprobs, k)
		}
		ereq.Logprobs, ereq.TopLogprobs = true, *req.Logprobs
	}
	return ereq, echo, nil
}

// completionPrompt tokenizes the prompt: text with BOS when the model
// wants it and special-token text taken literally, or token ids as given.
// text is the prompt's text, for echo.
func completionPrompt(b *backend, p prompt) (ids []int32, text string, ae *apiError) {
	switch {
	case !p.Set:
		return nil, "", badRequest("prompt", "prompt is required")
	case len(p.Texts) > 1 || len(p.Tokens) > 1:
		return nil, "", badRequest("prompt", "only one prompt per request is supported, got %d", max(len(p.Texts), len(p.Tokens)))
	case len(p.Texts) == 1:
		if p.Texts[0] == "" {
			return nil, "", badRequest("prompt", "prompt must not be empty")
		}
		if n := len(p.Texts[0]); n > b.maxTextBytes {
			return nil, "", textTooLong(b, "prompt", n)
		}
		ids = b.Tokenizer.Encode(p.Texts[0], tokenizer.EncodeOptions{AddBOS: b.addBOS})
		return ids, p.Texts[0], nil
	case len(p.Tokens) == 1 && len(p.Tokens[0]) > 0:
		vocab := b.Tokenizer.VocabSize()
		ids = make([]int32, len(p.Tokens[0]))
		for i, id := range p.Tokens[0] {
			if id < 0 || id >= int64(vocab) {
				return nil, "", badRequest("prompt", "token id %d at position %d is outside the vocabulary [0, %d)", id, i, vocab)
			}
			ids[i] = int32(id)
		}
		return ids, b.Tokenizer.Decode(ids), nil
	}
	return nil, "", badRequest("prompt", "prompt must not be empty")
}

// streamCompletion sends a completion as server-sent events.
func (s *Server) streamCompletion(w http.ResponseWriter, g *generation, chunk completionResponse, echo string, lp *completionLP, includeUsage bool) {
	var final engine.Event
	defer func() { g.close(final) }()
	out := startSSE(w)
	send := func(text string, lps *completionLogprobs, finish *string) error {
		c := chunk
		c.Choices = []completionChoice{{Text: text, Logprobs: lps, FinishReason: finish}}
		return out.send(c)
	}
	if echo != "" {
		if send(echo, nil, nil) != nil {
			return
		}
	}
	var ok bool
	final, ok = relay(out, g, func(ev engine.Event, finish *string) error {
		if ev.Text == "" && len(ev.Logprobs) == 0 && finish == nil {
			return nil
		}
		return send(ev.Text, lp.chunk(ev.Logprobs), finish)
	})
	if !ok {
		return
	}
	endStream(out, includeUsage, final, chunk)
}
