package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLogSoftmax(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		want   []float64
	}{
		{"uniform", []float32{3, 3, 3, 3}, []float64{-math.Log(4), -math.Log(4), -math.Log(4), -math.Log(4)}},
		{"two", []float32{0, float32(math.Log(3))}, []float64{math.Log(0.25), math.Log(0.75)}},
		{"huge logits do not overflow", []float32{1000, 1000}, []float64{-math.Ln2, -math.Ln2}},
		{"minus infinity", []float32{0, float32(math.Inf(-1))}, []float64{0, math.Inf(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := logSoftmax(nil, tt.logits)
			for i := range tt.want {
				if !(got[i] == tt.want[i] || math.Abs(got[i]-tt.want[i]) < 1e-7) {
					t.Errorf("logSoftmax(%v) = %v, want %v", tt.logits, got, tt.want)
					break
				}
			}
		})
	}
}

func TestKLDiv(t *testing.T) {
	ls := func(p ...float64) []float64 {
		out := make([]float64, len(p))
		for i, v := range p {
			out[i] = math.Log(v)
		}
		return out
	}
	tests := []struct {
		name string
		p, q []float64
		want float64
	}{
		{"equal", ls(0.2, 0.3, 0.5), ls(0.2, 0.3, 0.5), 0},
		{"coin", ls(0.5, 0.5), ls(0.9, 0.1), 0.5*math.Log(0.5/0.9) + 0.5*math.Log(0.5/0.1)},
		{"reversed", ls(0.9, 0.1), ls(0.5, 0.5), 0.9*math.Log(0.9/0.5) + 0.1*math.Log(0.1/0.5)},
		{"p has a zero", ls(1, 0), ls(0.5, 0.5), math.Ln2},
		{"q has a zero where p has mass", ls(0.5, 0.5), ls(1, 0), math.Inf(1)},
		{"far apart", ls(1-1e-12, 1e-12), ls(1e-12, 1-1e-12), (1 - 2e-12) * math.Log((1-1e-12)/1e-12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := klDiv(tt.p, tt.q)
			if !(got == tt.want || math.Abs(got-tt.want) <= 1e-9*math.Max(1, math.Abs(tt.want))) {
				t.Errorf("klDiv = %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

// TestKLDivNonNegative checks KL ≥ 0 on nearly equal distributions, where
// the plain sum of p·log(p/q) rounds below zero.
func TestKLDivNonNegative(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	negPlain := 0
	for range 2000 {
		a := make([]float32, 64)
		b := make([]float32, 64)
		for i := range a {
			a[i] = float32(r.NormFloat64() * 3)
			b[i] = a[i]
			if r.IntN(8) == 0 {
				b[i] += float32(r.NormFloat64() * 1e-6)
			}
		}
		p, q := logSoftmax(nil, a), logSoftmax(nil, b)
		if kl := klDiv(p, q); !(kl >= 0) {
			t.Fatalf("klDiv = %v, want ≥ 0", kl)
		}
		var plain float64
		for i := range p {
			plain += math.Exp(p[i]) * (p[i] - q[i])
		}
		if plain < 0 {
			negPlain++
		}
	}
	t.Logf("the plain sum was negative in %d of 2000 cases", negPlain)
}

func TestArgmax(t *testing.T) {
	tests := []struct {
		x    []float32
		want int
	}{
		{[]float32{1}, 0},
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5, 1}, 0},
		{[]float32{-2, -1, -1}, 1},
	}
	for _, tt := range tests {
		if got := argmax(tt.x); got != tt.want {
			t.Errorf("argmax(%v) = %d, want %d", tt.x, got, tt.want)
		}
	}
}
