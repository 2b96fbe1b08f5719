//go:build amd64 && !purego

package kernels

// kquants512 sets the AVX-512 kernels of the 256-value-block types in k.
func kquants512(k *[numDTypes]q8Kernels) {
	k[Q6_K].rowLoop = dotQ6KRowsAVX512
}
