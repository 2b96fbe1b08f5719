package kvcache

import "math"

// Quantized keys are stored rotated: each head's key k is stored as Hk,
// with H the normalized Walsh–Hadamard matrix of the head dimension (a
// power of two), and attention rotates each query head the same way. H is
// orthogonal, so every dot product q·k = (Hq)·(Hk) keeps its value (up to
// float32 rounding), while a key whose energy sits in a few large channels
// (the massive activations of attention sinks) is spread over all of
// them, so that one scale per block of values fits all of them: the
// rounding error of the small channels no longer follows the largest one.
// (On stories260K this halves the KL divergence of q8_0 keys from f16's;
// rotating values too changed nothing measurable, so they are not.)

// rotates reports whether keys of head dimension hd, quantized or not,
// are stored rotated: quantized ones, when hd is a power of two.
func rotates(quantized bool, hd int) bool {
	return quantized && hd >= 2 && hd&(hd-1) == 0
}

// rotateHeads applies the normalized Walsh–Hadamard transform in place to
// each run of hd values of x (hd a power of two).
func rotateHeads(x []float32, hd int) {
	norm := float32(1 / math.Sqrt(float64(hd)))
	for h := 0; h+hd <= len(x); h += hd {
		v := x[h : h+hd : h+hd]
		for n := 1; n < hd; n *= 2 {
			for i := 0; i < hd; i += 2 * n {
				for j := i; j < i+n; j++ {
					a, b := v[j], v[j+n]
					v[j], v[j+n] = a+b, a-b
				}
			}
		}
		for i := range v {
			v[i] *= norm
		}
	}
}
