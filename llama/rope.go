package llama

import (
	"math"

	"sieve/model"
)

// ropeFreqs returns the inverse frequency of each rotated pair of a head:
// theta^(-2i/ropeDim), adjusted by Llama 3.1 scaling when configured.
func ropeFreqs(c model.Config) []float32 {
	n := c.RopeDim / 2
	f := make([]float32, n)
	s := c.RopeScale
	for i := range f {
		freq := 1 / math.Pow(float64(c.RopeTheta), float64(2*i)/float64(c.RopeDim))
		if s.Factor > 0 && s.OriginalContext > 0 {
			freq = llama3Scaled(freq, s)
		}
		f[i] = float32(freq)
	}
	return f
}

// llama3Scaled applies Llama 3.1 frequency scaling: long wavelengths are
// divided by the factor, short ones kept, and the band between blended.
func llama3Scaled(freq float64, s model.RopeScaling) float64 {
	orig := float64(s.OriginalContext)
	low, high := float64(s.LowFreqFactor), float64(s.HighFreqFactor)
	if low == 0 {
		low = 1
	}
	if high == 0 {
		high = 4
	}
	wavelen := 2 * math.Pi / freq
	switch {
	case wavelen < orig/high:
		return freq
	case wavelen > orig/low:
		return freq / float64(s.Factor)
	}
	smooth := (orig/wavelen - low) / (high - low)
	return (1-smooth)*freq/float64(s.Factor) + smooth*freq
}

// ropeAngles fills cos and sin for one position. The angle is formed in
// float32, as reference implementations do, then evaluated in float64.
func ropeAngles(cos, sin, freqs []float32, pos int32) {
	for i, f := range freqs {
		a := float64(float32(pos) * f)
		cos[i] = float32(math.Cos(a))
		sin[i] = float32(math.Sin(a))
	}
}
