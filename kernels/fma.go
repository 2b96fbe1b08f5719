package kernels

import "math"

// fma32 returns x*y+z rounded once to float32, as the hardware VFMADD
// instructions do. The product of two float32 values is exact in float64;
// the sum is formed in float64 with its rounding error recovered exactly
// (TwoSum), then rounded to odd before the final rounding to float32, which
// makes the double rounding harmless.
func fma32(x, y, z float32) float32 {
	p := float64(x) * float64(y)
	c := float64(z)
	s := p + c
	bb := s - p
	e := (p - (s - bb)) + (c - bb)
	if e != 0 && s-s == 0 {
		b := math.Float64bits(s)
		if b&1 == 0 {
			if (e > 0) == (s > 0) {
				b++
			} else {
				b--
			}
			s = math.Float64frombits(b)
		}
	}
	return float32(s)
}
