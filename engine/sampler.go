// Package engine turns model forward passes into generated text: sampling,
// sequences, and the continuous-batching scheduler.
package engine

import (
	"math"
	"math/rand/v2"
	"slices"
)

// SamplingParams configures how the next token is chosen from logits.
// The zero value is greedy decoding.
type SamplingParams struct {
	Temperature float32 // 0 means greedy (argmax)
	TopK        int     // keep the K most likely tokens; 0 disables
	TopP        float32 // nucleus: keep the smallest set with mass >= TopP; 0 or 1 disables
	MinP        float32 // drop tokens below MinP × the top probability; 0 disables
	// RepetitionPenalty divides positive logits (multiplies negative ones) of
	// every token seen in the prompt or output; 0 or 1 disables.
	RepetitionPenalty float32
	PresencePenalty   float32 // subtracted once from each token already generated
	FrequencyPenalty  float32 // subtracted per occurrence in the generated text
	Seed              uint64
	// LogitBias adds a bias to the logits of the tokens it names (OpenAI's
	// logit_bias), each within ±MaxLogitBias.
	LogitBias map[int32]float32
}

// Greedy reports whether the parameters select the argmax token.
func (p SamplingParams) Greedy() bool { return p.Temperature <= 0 || p.TopK == 1 }

// Sampler chooses tokens for one sequence. It keeps the random state and
// the token history that penalties need.
type Sampler struct {
	p      SamplingParams
	rng    *rand.Rand
	seen   map[int32]bool  // prompt and output tokens (repetition penalty)
	counts map[int32]int32 // output tokens (presence/frequency penalties)
	cand   []int32
	prob   []float32
}

// NewSampler returns a sampler for a vocabulary of vocab tokens.
func NewSampler(p SamplingParams, vocab int) *Sampler {
	return &Sampler{
		p:      p,
		rng:    rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15)),
		seen:   map[int32]bool{},
		counts: map[int32]int32{},
		cand:   make([]int32, 0, vocab),
		prob:   make([]float32, 0, vocab),
	}
}

// Params returns the sampler's parameters.
func (s *Sampler) Params() SamplingParams { return s.p }

// Prompt records prompt tokens for the repetition penalty.
func (s *Sampler) Prompt(tokens []int32) {
	for _, t := range tokens {
		s.seen[t] = true
	}
}

// Accept records a generated token.
func (s *Sampler) Accept(t int32) {
	s.seen[t] = true
	s.counts[t]++
}

// Sample picks the next token. It may modify logits.
func (s *Sampler) Sample(logits []float32) int32 {
	applyLogitBias(logits, s.p.LogitBias)
	s.penalize(logits)
	if s.p.Greedy() {
		return Argmax(logits)
	}
	// Candidates sorted by logit, highest first (ties by lower id).
	cand := s.cand[:0]
	for i := range logits {
		cand = append(cand, int32(i))
	}
	slices.SortFunc(cand, func(a, b int32) int {
		switch la, lb := logits[a], logits[b]; {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return int(a - b)
	})
	if k := s.p.TopK; k > 0 && k < len(cand) {
		cand = cand[:k]
	}
	// Softmax at temperature over the candidates.
	prob := s.prob[:0]
	top := logits[cand[0]]
	var sum float64
	for _, c := range cand {
		e := math.Exp(float64((logits[c] - top) / s.p.Temperature))
		prob = append(prob, float32(e))
		sum += e
	}
	n := len(cand)
	if mp := s.p.MinP; mp > 0 {
		// prob[0] is the largest (unnormalised) probability.
		for n > 1 && prob[n-1] < mp*prob[0] {
			sum -= float64(prob[n-1])
			n--
		}
	}
	if tp := s.p.TopP; tp > 0 && tp < 1 {
		var cum float64
		for i := 0; i < n; i++ {
			cum += float64(prob[i])
			if cum >= float64(tp)*sum {
				n = i + 1
				break
			}
		}
		sum = 0
		for _, p := range prob[:n] {
			sum += float64(p)
		}
	}
	r := s.rng.Float64() * sum
	var cum float64
	for i := 0; i < n; i++ {
		cum += float64(prob[i])
		if r < cum {
			return cand[i]
		}
	}
	return cand[n-1]
}

func (s *Sampler) penalize(logits []float32) {
	if rp := s.p.RepetitionPenalty; rp > 0 && rp != 1 {
		for t := range s.seen {
			if logits[t] > 0 {
				logits[t] /= rp
			} else {
				logits[t] *= rp
			}
		}
	}
	if s.p.PresencePenalty != 0 || s.p.FrequencyPenalty != 0 {
		for t, c := range s.counts {
			logits[t] -= s.p.PresencePenalty + s.p.FrequencyPenalty*float32(c)
		}
	}
}

// Argmax returns the index of the largest logit (the lowest index on ties).
func Argmax(logits []float32) int32 {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return int32(best)
}
