package model

import (
	"fmt"
	"math"
)

// Upper bounds on the hyperparameters a loader accepts. They are far above
// any released Llama-family model (Llama 3.1 405B: width 16384, 126 layers,
// 128 heads, FFN 53248) and low enough that no product of them that the
// engine computes (a weight matrix, a KV row, a context's KV bytes) can
// overflow an int64, so a garbage header fails here instead of in an
// allocation.
const (
	MaxDim        = 1 << 16 // Dim
	MaxHiddenDim  = 1 << 18 // HiddenDim
	MaxLayers     = 1 << 12 // Layers
	MaxHeads      = 1 << 12 // Heads and KVHeads
	MaxHeadDim    = 1 << 12 // HeadDim
	MaxVocabSize  = 1 << 24 // VocabSize
	MaxContextLen = 1 << 24 // ContextLen (Llama 4 Scout's 10M tokens fit)
)

// Keys names the file keys a Config was read from, so that an error names
// what the user can look up in the file (e.g. "llama.attention.head_count"
// rather than "Heads"). An empty name falls back to the Config field name.
type Keys struct {
	Dim, HiddenDim, Layers, Heads, KVHeads, HeadDim, VocabSize, ContextLen string
	NormEps, RopeTheta, RopeDim                                            string
}

// name returns key, or field when key is empty.
func name(key, field string) string {
	if key == "" {
		return field
	}
	return key
}

// Validate checks the configuration as Check does, naming Config fields.
func (c Config) Validate() error { return c.Check(Keys{}) }

// Check checks every hyperparameter before anything is computed or
// allocated from it: each size lies in [1, its bound], heads split into KV
// groups, the head width is even, RoPE rotates at most the head width, and
// the float parameters are finite and positive. The error wraps ErrBadModel
// and names the first offending key.
func (c Config) Check(k Keys) error {
	bounds := []struct {
		key, field string
		v, max     int
	}{
		{k.Dim, "Dim", c.Dim, MaxDim},
		{k.HiddenDim, "HiddenDim", c.HiddenDim, MaxHiddenDim},
		{k.Layers, "Layers", c.Layers, MaxLayers},
		{k.Heads, "Heads", c.Heads, MaxHeads},
		{k.KVHeads, "KVHeads", c.KVHeads, c.Heads},
		{k.HeadDim, "HeadDim", c.HeadDim, MaxHeadDim},
		{k.VocabSize, "VocabSize", c.VocabSize, MaxVocabSize},
		{k.ContextLen, "ContextLen", c.ContextLen, MaxContextLen},
		{k.RopeDim, "RopeDim", c.RopeDim, c.HeadDim},
	}
	for _, b := range bounds {
		if b.v < 1 || b.v > b.max {
			return fmt.Errorf("%w: %s = %d, want 1 to %d", ErrBadModel, name(b.key, b.field), b.v, b.max)
		}
	}
	switch {
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%w: %s = %d does not divide %s = %d", ErrBadModel,
			name(k.KVHeads, "KVHeads"), c.KVHeads, name(k.Heads, "Heads"), c.Heads)
	case c.HeadDim%2 != 0:
		return fmt.Errorf("%w: head width %s = %d is odd; RoPE rotates pairs", ErrBadModel, name(k.HeadDim, "HeadDim"), c.HeadDim)
	case c.RopeDim%2 != 0:
		return fmt.Errorf("%w: %s = %d is odd; RoPE rotates pairs", ErrBadModel, name(k.RopeDim, "RopeDim"), c.RopeDim)
	case !positiveFinite(c.NormEps):
		return fmt.Errorf("%w: %s = %g, want a finite positive number", ErrBadModel, name(k.NormEps, "NormEps"), c.NormEps)
	case !positiveFinite(c.RopeTheta):
		return fmt.Errorf("%w: %s = %g, want a finite positive number", ErrBadModel, name(k.RopeTheta, "RopeTheta"), c.RopeTheta)
	}
	return c.RopeScale.check()
}

// check validates llama3 RoPE scaling; a zero Factor means none.
func (s RopeScaling) check() error {
	if s.Factor == 0 {
		return nil
	}
	if !positiveFinite(s.Factor) || !positiveFinite(s.LowFreqFactor) ||
		!positiveFinite(s.HighFreqFactor) || s.HighFreqFactor <= s.LowFreqFactor ||
		s.OriginalContext < 1 || s.OriginalContext > MaxContextLen {
		return fmt.Errorf("%w: llama3 rope scaling %+v", ErrBadModel, s)
	}
	return nil
}

// positiveFinite reports whether x is a finite number above zero.
func positiveFinite(x float32) bool {
	return x > 0 && !math.IsInf(float64(x), 1)
}
