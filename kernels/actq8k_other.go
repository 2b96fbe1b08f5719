//go:build !amd64 || purego

package kernels

// quantizeActQ8KWith is quantizeActQ8K; this build has no other kernel.
func quantizeActQ8KWith(_ *impl, dst []byte, x []float32) { quantizeActQ8K(dst, x) }

// quantizeActQ8With is quantizeActQ8; this build has no other kernel.
func quantizeActQ8With(_ *impl, dst []byte, x []float32) { quantizeActQ8(dst, x) }
