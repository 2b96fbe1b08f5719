package engine

import (
	"math"
	"testing"
)

func TestArgmaxTakesFirstOfTies(t *testing.T) {
	tests := []struct {
		logits []float32
		want   int32
	}{
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5, 1}, 0},
		{[]float32{-1, -0.5, -0.5}, 1},
		{[]float32{float32(math.Inf(-1)), 0}, 1},
	}
	for _, tt := range tests {
		if got := Argmax(tt.logits); got != tt.want {
			t.Errorf("Argmax(%v) = %d, want %d", tt.logits, got, tt.want)
		}
	}
}

// histogram samples n tokens from fresh copies of logits.
func histogram(p SamplingParams, logits []float32, n int) map[int32]int {
	s := NewSampler(p, len(logits))
	h := map[int32]int{}
	buf := make([]float32, len(logits))
	for i := 0; i < n; i++ {
		copy(buf, logits)
		h[s.Sample(buf)]++
	}
	return h
}

func TestSamplingFilters(t *testing.T) {
	// Probabilities at temperature 1: softmax(log p) = p.
	probs := []float64{0.5, 0.25, 0.15, 0.07, 0.03}
	logits := make([]float32, len(probs))
	for i, p := range probs {
		logits[i] = float32(math.Log(p))
	}
	tests := []struct {
		name    string
		p       SamplingParams
		allowed []int32 // tokens that may appear
		want    map[int32]float64
	}{
		{"greedy", SamplingParams{}, []int32{0}, map[int32]float64{0: 1}},
		{"top-k 1 is greedy", SamplingParams{Temperature: 1, TopK: 1}, []int32{0}, map[int32]float64{0: 1}},
		{"top-k 2", SamplingParams{Temperature: 1, TopK: 2}, []int32{0, 1}, map[int32]float64{0: 2.0 / 3, 1: 1.0 / 3}},
		// Cumulative mass 0.5, 0.75, 0.9: top-p 0.8 keeps three tokens.
		{"top-p 0.8", SamplingParams{Temperature: 1, TopP: 0.8}, []int32{0, 1, 2}, map[int32]float64{0: 0.5 / 0.9, 1: 0.25 / 0.9, 2: 0.15 / 0.9}},
		// min-p 0.2 drops tokens below 0.2 × 0.5 = 0.1.
		{"min-p 0.2", SamplingParams{Temperature: 1, MinP: 0.2}, []int32{0, 1, 2}, map[int32]float64{0: 0.5 / 0.9, 1: 0.25 / 0.9, 2: 0.15 / 0.9}},
		{"temperature 1", SamplingParams{Temperature: 1}, []int32{0, 1, 2, 3, 4}, map[int32]float64{0: 0.5, 1: 0.25, 2: 0.15, 3: 0.07, 4: 0.03}},
	}
	const n = 20000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Seed = 7
			h := histogram(tt.p, logits, n)
			for tok := range h {
				ok := false
				for _, a := range tt.allowed {
					ok = ok || a == tok
				}
				if !ok {
					t.Errorf("sampled token %d, allowed %v", tok, tt.allowed)
				}
			}
			for tok, want := range tt.want {
				got := float64(h[tok]) / n
				if math.Abs(got-want) > 0.02 {
					t.Errorf("token %d frequency %.3f, want %.3f", tok, got, want)
				}
			}
		})
	}
}

func TestSamplingIsReproducibleForASeed(t *testing.T) {
	logits := []float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}
	p := SamplingParams{Temperature: 1, Seed: 42}
	a, b := NewSampler(p, 6), NewSampler(p, 6)
	p.Seed = 43
	c := NewSampler(p, 6)
	differs := false
	for i := 0; i < 100; i++ {
		x, y, z := a.Sample(append([]float32(nil), logits...)), b.Sample(append([]float32(nil), logits...)), c.Sample(append([]float32(nil), logits...))
		if x != y {
			t.Fatalf("step %d: same seed sampled %d and %d", i, x, y)
		}
		differs = differs || x != z
	}
	if !differs {
		t.Error("seeds 42 and 43 sampled the same 100 tokens")
	}
}

func TestPenalties(t *testing.T) {
	tests := []struct {
		name   string
		p      SamplingParams
		prompt []int32
		output []int32
		want   []float32
	}{
		{"repetition divides positive, multiplies negative",
			SamplingParams{RepetitionPenalty: 2}, []int32{0}, []int32{1},
			[]float32{1, -4, 3}},
		{"presence once, frequency per occurrence",
			SamplingParams{PresencePenalty: 0.5, FrequencyPenalty: 0.25}, []int32{2}, []int32{0, 0, 1},
			[]float32{2 - 0.5 - 0.5, -2 - 0.5 - 0.25, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSampler(tt.p, 3)
			s.Prompt(tt.prompt)
			for _, o := range tt.output {
				s.Accept(o)
			}
			logits := []float32{2, -2, 3}
			s.penalize(logits)
			for i := range logits {
				if math.Abs(float64(logits[i]-tt.want[i])) > 1e-6 {
					t.Errorf("logits %v, want %v", logits, tt.want)
					break
				}
			}
		})
	}
}
