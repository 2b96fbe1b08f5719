package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// KVType reports whether t can store attention keys or values: a float
// type, or a quantized type of 32-value blocks that AttendQuant reads
// (Q8_0, Q4_0).
func KVType(t DType) bool {
	switch t {
	case F32, F16, BF16, Q8_0, Q4_0:
		return true
	}
	return false
}

// KVRowBytes returns the size of one row of dim values of type t as a KV
// cache stores it (one head's key or value of one token), or 0 when t
// cannot store rows of dim values. Float types store any dim. A quantized
// type stores a multiple of 32 values in its GGML blocks (t.RowBytes), and
// a head dimension of 8 or 16 as one short block of that many values with
// the same layout: an F16 scale, then the values (Q4_0: the first half in
// the low nibbles, the second in the high nibbles).
func KVRowBytes(t DType, dim int) int {
	switch {
	case !KVType(t) || dim <= 0:
		return 0
	case t.Float() || dim%Q8Block == 0:
		return t.RowBytes(dim)
	case dim != 8 && dim != 16:
		return 0
	case t == Q8_0:
		return 2 + dim
	}
	return 2 + dim/2 // Q4_0
}

// shortRow reports whether rows of dim values of quantized type t are one
// short block (see KVRowBytes).
func shortRow(t DType, dim int) bool { return !t.Float() && dim%Q8Block != 0 }

// QuantizeRow stores src as one row of type t in dst (KVRowBytes(t,
// len(src)) bytes, which must not be 0): F32 as is, F16 and BF16 rounded
// to nearest even, Q8_0 as QuantizeRowQ8_0 and Q4_0 as QuantizeRowQ4_0,
// whose block encodings also make a short block.
func QuantizeRow(t DType, dst []byte, src []float32) {
	if KVRowBytes(t, len(src)) == 0 {
		panic(fmt.Sprintf("kernels: QuantizeRow of %d values to %v", len(src), t))
	}
	if shortRow(t, len(src)) {
		if t == Q8_0 {
			quantizeBlockQ8_0(dst, src)
		} else {
			quantizeBlockQ4_0(dst, src)
		}
		return
	}
	switch t {
	case F32:
		copy(f32s(dst[:4*len(src)]), src)
	case F16:
		h := u16s(dst[:2*len(src)])
		for i, v := range src {
			h[i] = F32ToF16(v)
		}
	case BF16:
		h := u16s(dst[:2*len(src)])
		for i, v := range src {
			h[i] = F32ToBF16(v)
		}
	case Q8_0:
		QuantizeRowQ8_0(dst, src)
	case Q4_0:
		QuantizeRowQ4_0(dst, src)
	default:
		panic("kernels: QuantizeRow to " + t.String())
	}
}

// QuantizeRowQ4_0 encodes src (a multiple of Q8Block values) as Q4_0
// blocks into dst (at least Q4_0.RowBytes(len(src)) bytes), GGML's layout:
// an F16 scale d, then 16 bytes whose low nibbles hold values 0..15 and
// high nibbles values 16..31, each q in [0, 15] standing for d*(q-8). The
// scale is m/-8, m the value of largest magnitude, so m itself is stored
// exactly as -8; the other values are rounded to nearest (halves up), with
// the stored F16 scale, and clamped to 15.
func QuantizeRowQ4_0(dst []byte, src []float32) {
	if len(src)%Q8Block != 0 {
		panic(fmt.Sprintf("kernels: QuantizeRowQ4_0 of %d values, not a multiple of %d", len(src), Q8Block))
	}
	const bb = 2 + Q8Block/2
	if need := Q4_0.RowBytes(len(src)); len(dst) < need {
		panic(fmt.Sprintf("kernels: QuantizeRowQ4_0 into %d bytes, need %d", len(dst), need))
	}
	for b := 0; b < len(src)/Q8Block; b++ {
		quantizeBlockQ4_0(dst[b*bb:(b+1)*bb], src[b*Q8Block:(b+1)*Q8Block])
	}
}

// quantizeBlockQ4_0 encodes one block of Q8Block values (or of fewer, an
// even number, as a short block).
func quantizeBlockQ4_0(dst []byte, x []float32) {
	var amax, m float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax { // NaN never is
			amax, m = a, v
		}
	}
	h := F32ToF16(max(min(m/-8, maxF16), -maxF16))
	d := F16ToF32(h)
	binary.LittleEndian.PutUint16(dst, h)
	half := len(x) / 2
	q := dst[2 : 2+half]
	var id float32
	if d != 0 {
		id = 1 / d
	}
	nib := func(v float32) byte {
		r := float64(v*id) + 8.5
		switch {
		case r != r: // NaN stands for 0
			return 8
		case r < 0:
			return 0
		}
		return byte(min(r, 15))
	}
	for j := range half {
		q[j] = nib(x[j]) | nib(x[j+half])<<4
	}
}

// dequantShortRow decodes a short block of len(dst) values of type t.
func dequantShortRow(dst []float32, t DType, row []byte) {
	d := half(row)
	if t == Q8_0 {
		for j := range dst {
			dst[j] = d * float32(int8(row[2+j]))
		}
		return
	}
	h := len(dst) / 2
	for j, b := range row[2 : 2+h] {
		dst[j] = d * float32(int8(b&15)-8)
		dst[j+h] = d * float32(int8(b>>4)-8)
	}
}
