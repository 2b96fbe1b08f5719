//go:build amd64 && !purego

package kernels

// avx512Quants returns the AVX-512 implementation's kernels of the
// quantized types other than Q8_0: the AVX-512 ones where they exist
// (kquants512, smallQuants512), AVX2's otherwise.
func avx512Quants() [numDTypes]q8Kernels {
	k := avx2Quants()
	kquants512(&k)
	smallQuants512(&k)
	return k
}
