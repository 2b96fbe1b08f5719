//go:build amd64 && !purego

package kernels

// avx512Quants returns the AVX-512 implementation's kernels of the
// quantized types other than Q8_0: the AVX-512 ones where they exist
// (kquants512, smallQuants512, and with vnni set vnniQuants), AVX2's
// otherwise.
func avx512Quants(vnni bool) [numDTypes]q8Kernels {
	k := avx2Quants()
	kquants512(&k)
	smallQuants512(&k)
	if vnni {
		vnniQuants(&k)
	}
	return k
}
