package kernels

import "math"

// RMSNorm writes x / rms(x) * w into out; the sum of squares is Dot(x, x).
func RMSNorm(out, x, w []float32, eps float32) { rmsNorm(active, out, x, w, eps) }

func rmsNorm(im *impl, out, x, w []float32, eps float32) {
	if len(x) == 0 {
		return
	}
	ss := dotF32(im, x, x)
	scale := float32(1 / math.Sqrt(float64(ss/float32(len(x))+eps)))
	out, w = out[:len(x)], w[:len(x)]
	for i, v := range x {
		out[i] = w[i] * (scale * v)
	}
}
