package kernels

import "math"

// exp32 is the float32 exponential of every kernel that needs one (softmax,
// SiLU, attention), evaluated in the same operations by every variant:
// n = round(x*log2(e)), r = x - n*ln2 (ln2 in two parts, fused), e^r from
// its Taylor polynomial of degree 7 by fused Horner steps, times 2^n. The
// error is within 2 ulp of e^x. Inputs above 88 give e^88 and inputs below
// -87 give 0; NaN stays NaN.
func exp32(x float32) float32 {
	if x > expMax {
		x = expMax
	}
	if x < expMin {
		return 0
	}
	t := float32(math.RoundToEven(float64(x * expLog2e)))
	r := fma32(-t, expLn2Hi, x)
	r = fma32(-t, expLn2Lo, r)
	p := expCoef[7]
	for k := 6; k >= 0; k-- {
		p = fma32(p, r, expCoef[k])
	}
	return p * math.Float32frombits(uint32(int32(t)+127)<<23)
}

// Constants of exp32; the assembly generator uses the same values.
const (
	expMax   = 88
	expMin   = -87
	expLog2e = float32(math.Log2E)
	expLn2Hi = float32(0.693359375)
	expLn2Lo = float32(-2.12194440e-4)
)

// expCoef[k] is 1/k! rounded to float32.
var expCoef = [8]float32{1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040}

// genericExp sets dst[i] = exp32(src[i]) for n values.
func genericExp(dst, src []float32) {
	for i, v := range src {
		dst[i] = exp32(v)
	}
}

// expSlice sets dst[i] = exp32(src[i]) with implementation im.
func expSlice(im *impl, dst, src []float32) {
	n := len(src)
	n16 := n &^ (lanes - 1)
	if n16 > 0 {
		expVec(im, &dst[0], &src[0], n16)
	}
	genericExp(dst[n16:n], src[n16:])
}
