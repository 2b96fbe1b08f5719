package kernels

// Softmax normalises x in place: exp32(x - max) / sum, the sum taken in the
// 16-lane order of reduce.go (lane i%16, then sum16).
func Softmax(x []float32) { softmax(active, x) }

func softmax(im *impl, x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		if v > mx {
			mx = v
		}
	}
	var acc [lanes]float32
	n16 := len(x) &^ (lanes - 1)
	if n16 > 0 {
		expShiftSum(im, &x[0], n16, mx, &acc)
	}
	genericExpShiftSum(x[n16:], mx, &acc)
	inv := 1 / sum16(&acc)
	for i := range x {
		x[i] *= inv
	}
}

// genericExpShiftSum sets x[i] = exp32(x[i]-shift) and adds each to lane
// i%16 of acc (x starting at a lane boundary).
func genericExpShiftSum(x []float32, shift float32, acc *[lanes]float32) {
	for i, v := range x {
		e := exp32(v - shift)
		x[i] = e
		acc[i%lanes] += e
	}
}
