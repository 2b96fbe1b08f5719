package server

import (
	"fmt"
	"math/rand/v2"

	"sieve/engine"
	"sieve/sparsity"
)

// Request limits beyond the context (see docs/reliability.md). OpenAI
// allows 4 stop strings; Sieve allows more, each of bounded length, since
// the engine holds back up to the longest one's length of text while it
// matches.
const (
	maxStops     = 16   // stop strings of a request
	maxStopBytes = 256  // bytes of one stop string
	maxMessages  = 1024 // messages of a chat request
)

// checkModel accepts an empty model name or the served one.
func (s *Server) checkModel(name string) *apiError {
	if name != "" && name != s.cfg.ModelName {
		return modelNotFound(name)
	}
	return nil
}

// sampling validates the shared fields and converts them to engine
// parameters for a vocabulary of vocab tokens. OpenAI's defaults apply:
// temperature 1, top_p 1.
func (f *samplingFields) sampling(vocab int) (engine.SamplingParams, *apiError) {
	p := engine.SamplingParams{Temperature: 1, TopP: 1, RepetitionPenalty: 1}
	if f.N != nil && (*f.N < 1 || *f.N > maxChoices) {
		return p, badRequest("n", "n must be between 1 and %d, got %d", maxChoices, *f.N)
	}
	inRange := func(name string, v *float64, lo, hi float64, dst *float32) *apiError {
		if v == nil {
			return nil
		}
		if *v < lo || *v > hi {
			return badRequest(name, "%s must be between %g and %g, got %g", name, lo, hi, *v)
		}
		*dst = float32(*v)
		return nil
	}
	for _, c := range []struct {
		name   string
		v      *float64
		lo, hi float64
		dst    *float32
	}{
		{"temperature", f.Temperature, 0, 100, &p.Temperature},
		{"top_p", f.TopP, 0, 1, &p.TopP},
		{"min_p", f.MinP, 0, 1, &p.MinP},
		{"presence_penalty", f.PresencePenalty, -2, 2, &p.PresencePenalty},
		{"frequency_penalty", f.FrequencyPenalty, -2, 2, &p.FrequencyPenalty},
		{"repetition_penalty", f.RepetitionPenalty, 0, 100, &p.RepetitionPenalty},
	} {
		if err := inRange(c.name, c.v, c.lo, c.hi, c.dst); err != nil {
			return p, err
		}
	}
	if f.TopP != nil && *f.TopP == 0 {
		return p, badRequest("top_p", "top_p must be greater than 0")
	}
	if f.RepetitionPenalty != nil && *f.RepetitionPenalty == 0 {
		return p, badRequest("repetition_penalty", "repetition_penalty must be greater than 0")
	}
	if len(f.Stop) > maxStops {
		return p, badRequest("stop", "at most %d stop strings are supported, got %d", maxStops, len(f.Stop))
	}
	for i, stop := range f.Stop {
		if stop == "" || len(stop) > maxStopBytes {
			return p, badRequest("stop", "stop string %d must be 1 to %d bytes long, got %d", i, maxStopBytes, len(stop))
		}
	}
	if f.KVPolicy != "" {
		if _, err := sparsity.ParsePolicy(f.KVPolicy); err != nil {
			return p, badRequest("kv_policy", "%s", publicMessage(err))
		}
	}
	for _, id := range f.KVSinkTokens {
		if id < 0 {
			return p, badRequest("kv_sink_tokens", "kv_sink_tokens must be token ids, got %d", id)
		}
	}
	if f.TopK != nil {
		switch k := *f.TopK; {
		case k < -1:
			return p, badRequest("top_k", "top_k must be -1 (disabled) or at least 0, got %d", k)
		case k > 0:
			p.TopK = k
		}
	}
	if f.Seed != nil {
		p.Seed = uint64(*f.Seed)
	} else {
		p.Seed = rand.Uint64()
	}
	var ae *apiError
	p.LogitBias, ae = logitBias(f.LogitBias, vocab)
	return p, ae
}

// maxTokens resolves the token budget of a request whose prompt (the
// field promptParam) has n tokens: the requested one (the field param,
// which must fit the context), or def clamped to the context when none was
// given (def 0: the rest of the context). It never adds the request's
// numbers, so a max_tokens near the integer limit cannot overflow; the
// message is vLLM's "maximum context length is N tokens".
func maxTokens(requested *int, param, promptParam string, def, n, contextLen int) (int, *apiError) {
	if n >= contextLen {
		return 0, &apiError{status: 400, kind: typeInvalidRequest, param: promptParam, code: "context_length_exceeded",
			message: fmt.Sprintf("this model's maximum context length is %d tokens, but the prompt has %d tokens", contextLen, n)}
	}
	room := contextLen - n
	if requested == nil {
		if def == 0 {
			return room, nil
		}
		return min(def, room), nil
	}
	m := *requested
	if m < 1 {
		return 0, badRequest(param, "%s must be at least 1, got %d", param, m)
	}
	if m > room {
		return 0, &apiError{status: 400, kind: typeInvalidRequest, param: param, code: "context_length_exceeded",
			message: fmt.Sprintf("this model's maximum context length is %d tokens, but you requested %d tokens for the completion with %d in the prompt; %s can be at most %d",
				contextLen, m, n, param, room)}
	}
	return m, nil
}
