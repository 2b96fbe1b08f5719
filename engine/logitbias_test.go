package engine

import (
	"errors"
	"testing"
)

func TestLogitBiasSteersSampling(t *testing.T) {
	logits := []float32{0.5, 3, 1, 2.5}
	for _, c := range []struct {
		name string
		p    SamplingParams
		bias map[int32]float32
		want int32
	}{
		{"no bias, greedy", SamplingParams{}, nil, 1},
		{"ban the argmax", SamplingParams{}, map[int32]float32{1: -100}, 3},
		{"force the least likely", SamplingParams{}, map[int32]float32{0: 100}, 0},
		{"small nudge flips a close pair", SamplingParams{}, map[int32]float32{3: 1}, 3},
		{"forced under top_k 1", SamplingParams{Temperature: 1, TopK: 1}, map[int32]float32{2: 100}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.p.LogitBias = c.bias
			s := NewSampler(c.p, len(logits))
			if got := s.Sample(append([]float32(nil), logits...)); got != c.want {
				t.Errorf("sampled %d, want %d", got, c.want)
			}
		})
	}
}

func TestLogitBiasBansATokenUnderSampling(t *testing.T) {
	p := SamplingParams{Temperature: 1, TopP: 1, Seed: 7, LogitBias: map[int32]float32{0: -100, 1: -100}}
	s := NewSampler(p, 4)
	for i := range 2000 {
		if got := s.Sample([]float32{2, 2, 0, 0}); got == 0 || got == 1 {
			t.Fatalf("draw %d picked banned token %d", i, got)
		}
	}
}

func TestCheckLogitBias(t *testing.T) {
	for _, c := range []struct {
		name string
		bias map[int32]float32
		ok   bool
	}{
		{"none", nil, true},
		{"bounds", map[int32]float32{0: -100, 9: 100}, true},
		{"token past the vocabulary", map[int32]float32{10: 1}, false},
		{"negative token", map[int32]float32{-1: 1}, false},
		{"too large", map[int32]float32{1: 100.5}, false},
		{"too small", map[int32]float32{1: -101}, false},
	} {
		err := checkLogitBias(c.bias, 10)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrBadRequest)) {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
