package kernels

import (
	"encoding/binary"
	"math"
)

// Q8 activations. An input vector for a Q8_0 product is quantized once per
// MatVec/MatMul into pairs of 32-value blocks laid out for the integer dot
// kernels (q8PairBytes each; an odd last block leaves its pair half empty):
//
//	bytes   0..63   the two blocks' int8 values, in [-127, 127]
//	bytes  64..127  per block, 8 int32 corrections -128*(sum of 4 values)
//	bytes 128..191  per block, the float32 scale repeated 8 times
//
// The corrections let the VNNI kernels use unsigned-by-signed products with
// the weights offset by 128.
const (
	q8PairBytes  = 192
	q8PairCorr   = 64
	q8PairScales = 128
)

// q8ActBytes returns the size of one quantized activation of cols values.
func q8ActBytes(cols int) int {
	return (cols/Q8Block + 1) / 2 * q8PairBytes
}

// quantizeActQ8 quantizes x (a multiple of Q8Block values) into dst, one
// scale d = max|x|/127 per block and values round(x/d), halves away from
// zero.
func quantizeActQ8(dst []byte, x []float32) {
	nb := len(x) / Q8Block
	for b := range nb {
		blk := x[b*Q8Block : (b+1)*Q8Block : (b+1)*Q8Block]
		pair := dst[b/2*q8PairBytes : (b/2+1)*q8PairBytes : (b/2+1)*q8PairBytes]
		h := 32 * (b % 2)
		var amax float32
		for _, v := range blk {
			// A plain compare: the max builtin's NaN and signed-zero rules
			// cost a third of the quantization. NaN sticks, as with max.
			if a := math.Float32frombits(math.Float32bits(v) & 0x7fffffff); a > amax || a != a {
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		vals := pair[h : h+Q8Block : h+Q8Block]
		var sums [8]int32
		for j, v := range blk {
			q := roundQ8(v * id)
			vals[j] = byte(q)
			sums[j/4] += int32(q)
		}
		corr := pair[q8PairCorr+h : q8PairCorr+h+32 : q8PairCorr+h+32]
		scales := pair[q8PairScales+h : q8PairScales+h+32 : q8PairScales+h+32]
		db := math.Float32bits(d)
		for l, sum := range sums {
			binary.LittleEndian.PutUint32(corr[4*l:], uint32(-128*sum))
			binary.LittleEndian.PutUint32(scales[4*l:], db)
		}
	}
	if nb%2 == 1 { // clear the unused half so that no garbage is ever read
		clear(dst[nb/2*q8PairBytes+32 : nb/2*q8PairBytes+64])
		clear(dst[nb/2*q8PairBytes+q8PairCorr+32 : nb/2*q8PairBytes+q8PairCorr+64])
		clear(dst[nb/2*q8PairBytes+q8PairScales+32 : (nb/2+1)*q8PairBytes])
	}
}

// roundQ8 rounds v, a value in [-127, 127] give or take an ulp, half away
// from zero, to an int8 in [-127, 127]; NaN gives 0. It has no branch on
// the sign, which random activations would mispredict half the time.
func roundQ8(v float32) int8 {
	bits := math.Float32bits(v)
	a := math.Float32frombits(bits&0x7fffffff) + 0.5 // exact below 2^23
	if !(a < 127) {                                  // also NaN
		a = 127
		if v != v {
			a = 0
		}
	}
	q := int32(a)
	s := int32(bits) >> 31
	return int8(q ^ s - s)
}
