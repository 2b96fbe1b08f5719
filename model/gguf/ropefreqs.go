package gguf

import (
	"fmt"
	"math"

	"sieve/model"
)

// ropeFreqsTensor holds per-frequency RoPE divisors (Llama 3.1 scaling) in
// files that do not describe the scaling with metadata keys.
const ropeFreqsTensor = "rope_freqs.weight"

// ropeFreqsTolerance is the relative error allowed between a rope_freqs
// tensor and the llama3 factors it is taken to encode.
const ropeFreqsTolerance = 1e-3

// applyRopeFreqs reconciles a rope_freqs tensor with c.RopeScale. When the
// metadata already gives llama3 scaling, the tensor must agree with it;
// otherwise the llama3 parameters are recovered from the tensor. Any factor
// list that llama3 scaling cannot express is unsupported.
func applyRopeFreqs(c *model.Config, freqs []float32) error {
	if c.RopeScale.Factor != 0 {
		if !factorsMatch(llama3Factors(*c, c.RopeScale), freqs) {
			return fmt.Errorf("%w: %s disagrees with the llama3 rope scaling keys", model.ErrBadModel, ropeFreqsTensor)
		}
		return nil
	}
	allOnes := true
	for _, v := range freqs {
		allOnes = allOnes && math.Abs(float64(v)-1) < 1e-6
	}
	if allOnes {
		return nil
	}
	s, ok := fitLlama3(*c, freqs)
	if !ok || !factorsMatch(llama3Factors(*c, s), freqs) {
		return fmt.Errorf("%w: %s is not llama3 rope scaling", model.ErrUnsupported, ropeFreqsTensor)
	}
	c.RopeScale = s
	return nil
}

// wavelength returns the wavelength, in positions, of rotated pair i.
func wavelength(c model.Config, i int) float64 {
	freq := math.Pow(float64(c.RopeTheta), -2*float64(i)/float64(c.RopeDim))
	return 2 * math.Pi / freq
}

// llama3Factors returns the divisor that llama3 scaling applies to each
// rotated pair's frequency: 1 for short wavelengths, Factor for long ones,
// and a smooth blend in between.
func llama3Factors(c model.Config, s model.RopeScaling) []float64 {
	out := make([]float64, c.RopeDim/2)
	orig := float64(s.OriginalContext)
	lo, hi, factor := float64(s.LowFreqFactor), float64(s.HighFreqFactor), float64(s.Factor)
	for i := range out {
		wl := wavelength(c, i)
		switch {
		case wl < orig/hi:
			out[i] = 1
		case wl > orig/lo:
			out[i] = factor
		default:
			smooth := (orig/wl - lo) / (hi - lo)
			out[i] = 1 / ((1-smooth)/factor + smooth)
		}
	}
	return out
}

// factorsMatch reports whether want and got agree within ropeFreqsTolerance.
func factorsMatch(want []float64, got []float32) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		// Written so that a NaN on either side is a mismatch.
		if !(math.Abs(float64(got[i])-w) <= ropeFreqsTolerance*w) {
			return false
		}
	}
	return true
}

// fitLlama3 recovers llama3 scaling parameters from their factors. In the
// blended band, 1/f = (1-s)/factor + s with s linear in 1/wavelength; a line
// fitted through those points fixes OriginalContext/HighFreqFactor and
// OriginalContext/LowFreqFactor, which is all the factors depend on, so
// LowFreqFactor is taken as 1.
func fitLlama3(c model.Config, freqs []float32) (model.RopeScaling, bool) {
	if len(freqs) == 0 {
		return model.RopeScaling{}, false
	}
	factor := float64(freqs[len(freqs)-1])
	if !(factor > 1) || math.IsInf(factor, 1) {
		return model.RopeScaling{}, false
	}
	var n, sx, sy, sxx, sxy float64
	for i, v := range freqs {
		f := float64(v)
		if f <= 1*(1+ropeFreqsTolerance) || f >= factor*(1-ropeFreqsTolerance) {
			continue
		}
		x := 1 / wavelength(c, i)
		y := (1/f - 1/factor) / (1 - 1/factor)
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	if n < 2 {
		return model.RopeScaling{}, false
	}
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	intercept := (sy - slope*sx) / n
	// s = (orig/wl - lo)/(hi - lo): slope = orig/(hi-lo), intercept = -lo/(hi-lo).
	if slope <= 0 || intercept >= 0 {
		return model.RopeScaling{}, false
	}
	beta := -intercept
	orig := slope / beta
	if !(orig >= 1 && orig <= maxDimension) {
		return model.RopeScaling{}, false
	}
	return model.RopeScaling{
		Factor:          float32(factor),
		LowFreqFactor:   1,
		HighFreqFactor:  float32(1 + 1/beta),
		OriginalContext: int(math.Round(orig)),
	}, true
}
