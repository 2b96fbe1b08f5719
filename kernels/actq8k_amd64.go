//go:build amd64 && !purego

package kernels

// quantizeActQ8KWith is quantizeActQ8K through implementation im's
// kernel: the same bytes.
func quantizeActQ8KWith(im *impl, dst []byte, x []float32) {
	if nb := len(x) / SuperBlock; im.level == levelAVX512 && nb > 0 {
		_ = dst[nb*q8kBlockBytes-1]
		quantizeQ8KAVX512(&dst[0], &x[0], nb)
		return
	}
	quantizeActQ8K(dst, x)
}

// quantizeActQ8With is quantizeActQ8 through implementation im's kernel:
// the same bytes.
func quantizeActQ8With(im *impl, dst []byte, x []float32) {
	if nb := len(x) / Q8Block; im.level == levelAVX512 && nb > 0 {
		_ = dst[q8ActBytes(len(x))-1]
		quantizeQ8AVX512(&dst[0], &x[0], nb)
		return
	}
	quantizeActQ8(dst, x)
}
