package kernels

// Dot returns the dot product of a and b (len(b) >= len(a)), in the
// reduction order of reduce.go.
func Dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return dotF32(active, a, b[:len(a)])
}

// Add sets dst[i] += x[i].
func Add(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += v
	}
}
