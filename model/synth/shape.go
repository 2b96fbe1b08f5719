// Package synth writes llama-architecture GGUF files with random weights, in
// fixed shapes, for benchmarks and tests that need a model of a given size
// but not a trained one.
package synth

import (
	"fmt"

	"sieve/kernels"
)

// Shape is the architecture of a synthetic model. The vocabulary size comes
// from the vocabulary it is written with.
type Shape struct {
	Name       string
	Layers     int
	Dim        int
	Heads      int
	KVHeads    int
	FFN        int // feed-forward (SwiGLU hidden) width
	ContextLen int
	RopeTheta  float32
}

// normEps is the RMSNorm epsilon of every synthetic model.
const normEps = 1e-5

// shapes returns the built-in shapes, smallest first.
func shapes() []Shape {
	return []Shape{
		{Name: "tiny", Layers: 2, Dim: 64, Heads: 4, KVHeads: 2, FFN: 128, ContextLen: 2048, RopeTheta: 10000},
		{Name: "small", Layers: 12, Dim: 768, Heads: 12, KVHeads: 4, FFN: 2048, ContextLen: 16384, RopeTheta: 10000},
		{Name: "1b", Layers: 16, Dim: 2048, Heads: 32, KVHeads: 8, FFN: 8192, ContextLen: 16384, RopeTheta: 500000},
	}
}

// ShapeNames lists the built-in shapes, smallest first.
func ShapeNames() []string {
	var names []string
	for _, s := range shapes() {
		names = append(names, s.Name)
	}
	return names
}

// LookupShape returns the built-in shape of that name.
func LookupShape(name string) (Shape, bool) {
	for _, s := range shapes() {
		if s.Name == name {
			return s, true
		}
	}
	return Shape{}, false
}

// HeadDim is the width of one attention head.
func (s Shape) HeadDim() int { return s.Dim / s.Heads }

// check reports a shape that cannot be written in type typ.
func (s Shape) check(typ kernels.DType) error {
	switch {
	case s.Layers <= 0 || s.Dim <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.FFN <= 0 || s.ContextLen <= 0 || s.RopeTheta <= 0:
		return fmt.Errorf("synth: shape %+v has a non-positive size", s)
	case s.Dim%s.Heads != 0 || s.HeadDim()%2 != 0:
		return fmt.Errorf("synth: dim %d does not split into %d heads of even width", s.Dim, s.Heads)
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("synth: %d heads not divisible by %d KV heads", s.Heads, s.KVHeads)
	case typ != kernels.F32 && typ != kernels.F16 && typ != kernels.BF16 && typ != kernels.Q8_0:
		return fmt.Errorf("synth: weight type %v cannot be written", typ)
	case typ == kernels.Q8_0 && (s.Dim%kernels.Q8Block != 0 || s.FFN%kernels.Q8Block != 0):
		return fmt.Errorf("synth: q8_0 needs dim %d and FFN %d to be multiples of %d", s.Dim, s.FFN, kernels.Q8Block)
	}
	return nil
}
