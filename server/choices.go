package server

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"sieve/engine"
)

// manyChoices reports whether a request needs a fanout: n > 1 or several
// prompts.
func manyChoices(n *int, prompts int) bool {
	return (n != nil && *n != 1) || prompts > 1
}

// promptItems splits a completions prompt into one prompt per item.
func promptItems(p prompt) []prompt {
	var items []prompt
	for _, t := range p.Texts {
		items = append(items, prompt{Set: true, Texts: []string{t}})
	}
	for _, t := range p.Tokens {
		items = append(items, prompt{Set: true, Tokens: [][]int64{t}})
	}
	return items
}

// completionChoices serves a /v1/completions request with several
// choices: n per prompt, indexed prompt by prompt.
func (s *Server) completionChoices(w http.ResponseWriter, r *http.Request, b *backend, req *completionRequest, start time.Time) {
	items := promptItems(req.Prompt)
	n, ae := choiceCount(req.N, len(items))
	if ae != nil {
		s.fail(w, r, ae)
		return
	}
	var prompts []engine.Request
	var echoes []string
	one := 1
	for _, item := range items {
		sub := *req
		sub.Prompt, sub.N = item, &one
		ereq, echo, ae := s.completionRequest(r, b, &sub)
		if ae != nil {
			s.fail(w, r, ae)
			return
		}
		prompts = append(prompts, ereq)
		for range n {
			echoes = append(echoes, echo)
		}
	}
	f := s.startFanout(w, r, b, start, prompts, n)
	if f == nil {
		return
	}
	defer f.close()
	lps := make([]*completionLP, len(f.reqs))
	texts := make([][]byte, len(f.reqs))
	for i := range f.reqs {
		lps[i] = newCompletionLP(f.reqs[i].Logprobs, utf8.RuneCountInString(echoes[i]))
		texts[i] = []byte(echoes[i])
	}
	resp := completionResponse{
		ID: "cmpl-" + requestID(r.Context()), Object: "text_completion", Created: start.Unix(), Model: s.cfg.ModelName,
	}
	if req.Stream {
		s.streamCompletionChoices(w, f, resp, echoes, lps, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	if !f.collect(w, func(i int, ev engine.Event) {
		texts[i] = append(texts[i], ev.Text...)
		lps[i].add(ev.Logprobs)
	}) {
		return
	}
	for i := range f.reqs {
		resp.Choices = append(resp.Choices, completionChoice{Index: i, Text: string(texts[i]), Logprobs: lps[i].all(), FinishReason: finishReason(f.finals[i].Finish)})
	}
	resp.Usage = usageOf(f.usage())
	writeJSON(w, http.StatusOK, resp)
}

// streamCompletionChoices streams the choices of f, each chunk carrying
// one choice's output with its index, in the order the engine produces
// them.
func (s *Server) streamCompletionChoices(w http.ResponseWriter, f *fanout, chunk completionResponse, echoes []string, lps []*completionLP, includeUsage bool) {
	out := startSSE(w)
	send := func(i int, text string, lp *completionLogprobs, finish *string) error {
		c := chunk
		c.Choices = []completionChoice{{Index: i, Text: text, Logprobs: lp, FinishReason: finish}}
		return out.send(c)
	}
	for i, echo := range echoes {
		if echo != "" && send(i, echo, nil, nil) != nil {
			return
		}
	}
	ok := streamFanout(out, f, func(i int, ev engine.Event, finish *string) error {
		if ev.Text == "" && len(ev.Logprobs) == 0 && finish == nil {
			return nil
		}
		return send(i, ev.Text, lps[i].chunk(ev.Logprobs), finish)
	})
	if ok {
		endStream(out, includeUsage, f.summary(), chunk)
	}
}

// streamFanout runs f, passing each event with its OpenAI finish reason
// to send. A choice that fails, or one that cannot be submitted, ends the
// stream with OpenAI's error shape. ok is false when the stream was
// ended or abandoned.
func streamFanout(out *sse, f *fanout, send func(i int, ev engine.Event, finish *string) error) bool {
	f.probe = out.ping
	ok, ae := f.run(func(i int, ev engine.Event) error {
		if ev.Finish == engine.FinishError {
			out.send(generationError(ev).body())
			return errAbandon
		}
		var finish *string
		if ev.Finish != "" {
			finish = finishReason(ev.Finish)
		}
		return send(i, ev, finish)
	})
	if ae != nil {
		out.send(ae.body())
	}
	return ok
}

// chatChoices serves a /v1/chat/completions request with n > 1 choices.
func (s *Server) chatChoices(w http.ResponseWriter, r *http.Request, b *backend, req *chatRequest, start time.Time) {
	n, ae := choiceCount(req.N, 1)
	if ae != nil {
		s.fail(w, r, ae)
		return
	}
	one := 1
	sub := *req
	sub.N = &one
	ereq, tools, ae := s.chatRequest(r, b, &sub)
	if ae == nil && tools != nil {
		ae = badRequest("n", "n > 1 cannot be combined with tools")
	}
	if ae != nil {
		s.fail(w, r, ae)
		return
	}
	f := s.startFanout(w, r, b, start, []engine.Request{ereq}, n)
	if f == nil {
		return
	}
	defer f.close()
	resp := chatResponse{ID: "chatcmpl-" + requestID(r.Context()), Object: "chat.completion", Created: start.Unix(), Model: s.cfg.ModelName}
	if req.Stream {
		resp.Object = "chat.completion.chunk"
		streamChatChoices(startSSE(w), f, resp, ereq.Logprobs, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	texts := make([]strings.Builder, n)
	lps := make([][]chatTokenLogprob, n)
	if !f.collect(w, func(i int, ev engine.Event) {
		texts[i].WriteString(ev.Text)
		if ereq.Logprobs {
			lps[i] = append(lps[i], chatLP(ev.Logprobs)...)
		}
	}) {
		return
	}
	for i := range n {
		content := texts[i].String()
		choice := chatChoice{Index: i, Message: &chatOutput{Role: "assistant", Content: &content}, FinishReason: finishReason(f.finals[i].Finish)}
		if ereq.Logprobs {
			choice.Logprobs = &chatLogprobs{Content: append([]chatTokenLogprob{}, lps[i]...)}
		}
		resp.Choices = append(resp.Choices, choice)
	}
	resp.Usage = usageOf(f.usage())
	writeJSON(w, http.StatusOK, resp)
}

// streamChatChoices streams the choices of f: a first chunk with the role
// for every choice, then each choice's content as it comes.
func streamChatChoices(out *sse, f *fanout, chunk chatResponse, logprobs, includeUsage bool) {
	send := func(i int, delta chatOutput, lps []engine.TokenLogprobs, finish *string) error {
		c := chunk
		choice := chatChoice{Index: i, Delta: &delta, FinishReason: finish}
		if logprobs && len(lps) > 0 {
			choice.Logprobs = &chatLogprobs{Content: chatLP(lps)}
		}
		c.Choices = []chatChoice{choice}
		return out.send(c)
	}
	empty := ""
	for i := range f.reqs {
		if send(i, chatOutput{Role: "assistant", Content: &empty}, nil, nil) != nil {
			return
		}
	}
	ok := streamFanout(out, f, func(i int, ev engine.Event, finish *string) error {
		if ev.Text == "" && finish == nil && !(logprobs && len(ev.Logprobs) > 0) {
			return nil
		}
		return send(i, textDelta(ev.Text), ev.Logprobs, finish)
	})
	if ok {
		endStream(out, includeUsage, f.summary(), chunk)
	}
}

// textDelta is a streamed delta carrying text, or nothing when it is empty.
func textDelta(text string) chatOutput {
	if text == "" {
		return chatOutput{}
	}
	return chatOutput{Content: &text}
}
