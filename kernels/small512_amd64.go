//go:build amd64 && !purego

package kernels

// smallQuants512 sets the AVX-512 kernels of the 32-value-block types
// other than Q8_0 in k.
func smallQuants512(k *[numDTypes]q8Kernels) {}
