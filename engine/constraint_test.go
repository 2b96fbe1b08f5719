package engine

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

// scriptConstraint allows exactly one token per step, from a script, and
// is complete at the script's end.
type scriptConstraint struct {
	script []int32
	i      int
	prevs  []int32
}

// Mask allows the script's next token.
func (c *scriptConstraint) Mask(prev int32, logits []float32) bool {
	if c.i >= len(c.script) {
		return false
	}
	for i := range logits {
		if int32(i) != c.script[c.i] {
			logits[i] = float32(math.Inf(-1))
		}
	}
	return true
}

// Accept moves along the script.
func (c *scriptConstraint) Accept(prev, tok int32) (bool, error) {
	c.prevs = append(c.prevs, prev)
	if c.i >= len(c.script) || tok != c.script[c.i] {
		return false, errors.New("off script")
	}
	c.i++
	return c.i == len(c.script), nil
}

func TestConstraintSteersSampling(t *testing.T) {
	m, tok := stories(t)
	script := []int32{300, 301, 302, 303}
	tests := []struct {
		name       string
		params     SamplingParams
		maxTokens  int
		wantTokens []int32
		wantFinish FinishReason
	}{
		{"greedy, complete", SamplingParams{}, 0, script, FinishStop},
		{"random with penalties", SamplingParams{Temperature: 1.5, TopP: 0.9, TopK: 40, MinP: 0.05, RepetitionPenalty: 1.3, FrequencyPenalty: 1, Seed: 7}, 0, script, FinishStop},
		{"cut by max tokens", SamplingParams{Temperature: 1, Seed: 3}, 2, script[:2], FinishLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, m, tok, Config{MaxSeqs: 2, KVCacheMiB: 4})
			c := &scriptConstraint{script: script}
			prompt := []int32{1, 400, 401}
			r := collect(t, submit(t, e, context.Background(), Request{Prompt: prompt, Params: tt.params, MaxTokens: tt.maxTokens, Constraint: c, Logprobs: true, TopLogprobs: 3}))
			if !slices.Equal(r.tokens, tt.wantTokens) || r.last.Finish != tt.wantFinish {
				t.Fatalf("tokens %v finish %q, want %v %q", r.tokens, r.last.Finish, tt.wantTokens, tt.wantFinish)
			}
			if want := append([]int32{401}, tt.wantTokens[:len(tt.wantTokens)-1]...); !slices.Equal(c.prevs, want) {
				t.Errorf("prev tokens %v, want %v", c.prevs, want)
			}
			for _, lp := range r.logprobs {
				// Logprobs are the model's, before the mask: finite, and the
				// alternatives are not only the allowed token.
				if math.IsInf(float64(lp.Logprob), 0) || len(lp.Top) != 3 {
					t.Errorf("logprobs %+v", lp)
				}
			}
		})
	}
}

func TestConstraintAllowingNothingEndsWithLength(t *testing.T) {
	m, tok := stories(t)
	e := newEngine(t, m, tok, Config{MaxSeqs: 2, KVCacheMiB: 4})
	r := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 400}, MaxTokens: 5, Constraint: &scriptConstraint{}}))
	if len(r.tokens) != 0 || r.last.Finish != FinishLength {
		t.Errorf("tokens %v finish %q, want none and length", r.tokens, r.last.Finish)
	}
}

func TestConstraintWithForcedIsRefused(t *testing.T) {
	m, tok := stories(t)
	e := newEngine(t, m, tok, Config{MaxSeqs: 2, KVCacheMiB: 4})
	_, err := e.Submit(context.Background(), Request{Prompt: []int32{1, 400}, Forced: []int32{5}, Constraint: &scriptConstraint{}})
	if !errors.Is(err, ErrBadRequest) {
		t.Errorf("error %v, want ErrBadRequest", err)
	}
}
