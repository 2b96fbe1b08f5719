package kernels

// RoPE rotates each head of x (heads of headDim values) by the angles whose
// cosines and sines are given (len(cos) = rotated pairs per head). With half
// false it rotates adjacent pairs (2i, 2i+1); with half true, pairs (i, i+headDim/2).
func RoPE(x []float32, headDim int, cos, sin []float32, half bool) {
	for h := 0; h+headDim <= len(x); h += headDim {
		v := x[h : h+headDim]
		if half {
			d2 := headDim / 2
			for i := range cos {
				a, b := v[i], v[i+d2]
				v[i] = a*cos[i] - b*sin[i]
				v[i+d2] = a*sin[i] + b*cos[i]
			}
			continue
		}
		for i := range cos {
			a, b := v[2*i], v[2*i+1]
			v[2*i] = a*cos[i] - b*sin[i]
			v[2*i+1] = a*sin[i] + b*cos[i]
		}
	}
}
