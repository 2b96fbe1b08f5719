package kernels

import (
	"encoding/binary"
	"fmt"
)

// maxF16 is the largest finite half-precision value.
const maxF16 = 65504

// QuantizeRowQ8_0 encodes src (a multiple of Q8Block values) as Q8_0 blocks
// into dst (at least Q8_0.RowBytes(len(src)) bytes). Each block stores the
// scale d = max|x|/127 as F16, then round(x/d) as int8 (halves away from
// zero), computed with the stored F16 scale so that dequantizing is off by at
// most d/2. A block of zeros has d = 0 and all-zero values.
func QuantizeRowQ8_0(dst []byte, src []float32) {
	if len(src)%Q8Block != 0 {
		panic(fmt.Sprintf("kernels: QuantizeRowQ8_0 of %d values, not a multiple of %d", len(src), Q8Block))
	}
	if need := Q8_0.RowBytes(len(src)); len(dst) < need {
		panic(fmt.Sprintf("kernels: QuantizeRowQ8_0 into %d bytes, need %d", len(dst), need))
	}
	for b := 0; b < len(src)/Q8Block; b++ {
		quantizeBlockQ8_0(dst[b*q8BlockBytes:(b+1)*q8BlockBytes], src[b*Q8Block:(b+1)*Q8Block])
	}
}

// quantizeBlockQ8_0 encodes one block of Q8Block values (or of fewer, as
// a short block).
func quantizeBlockQ8_0(dst []byte, x []float32) {
	var amax float32
	for _, v := range x {
		if v < 0 {
			v = -v
		}
		if v > amax { // NaN never is
			amax = v
		}
	}
	h := F32ToF16(min(amax/127, maxF16))
	d := F16ToF32(h)
	binary.LittleEndian.PutUint16(dst, h)
	q := dst[2 : 2+len(x)]
	if d == 0 {
		clear(q)
		return
	}
	for i, v := range x {
		// Round half away from zero; float64 holds r+0.5 exactly.
		r := float64(v / d)
		var n int32
		switch {
		case r >= 0:
			n = int32(min(r+0.5, 127))
		case r < 0:
			n = -int32(min(-r+0.5, 127))
		} // NaN stays 0
		q[i] = byte(int8(n))
	}
}
