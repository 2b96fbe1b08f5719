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
// scale d = max|x|/127 per block and values round(x/d).
func quantizeActQ8(dst []byte, x []float32) {
	nb := len(x) / Q8Block
	for b := range nb {
		blk := x[b*Q8Block : (b+1)*Q8Block]
		pair := dst[b/2*q8PairBytes : (b/2+1)*q8PairBytes]
		h := 32 * (b % 2)
		var amax float32
		for _, v := range blk {
			amax = max(amax, math.Float32frombits(math.Float32bits(v)&0x7fffffff))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		for l := range 8 {
			var sum int32
			for j := 4 * l; j < 4*l+4; j++ {
				r := float32(math.Round(float64(blk[j] * id)))
				q := int8(max(-127, min(127, r))) // NaN gives 0 on amd64 and arm64
				if r != r {
					q = 0
				}
				pair[h+j] = byte(q)
				sum += int32(q)
			}
			binary.LittleEndian.PutUint32(pair[q8PairCorr+h+4*l:], uint32(-128*sum))
			binary.LittleEndian.PutUint32(pair[q8PairScales+h+4*l:], math.Float32bits(d))
		}
	}
	if nb%2 == 1 { // clear the unused half so that no garbage is ever read
		clear(dst[nb/2*q8PairBytes+32 : nb/2*q8PairBytes+64])
		clear(dst[nb/2*q8PairBytes+q8PairCorr+32 : nb/2*q8PairBytes+q8PairCorr+64])
		clear(dst[nb/2*q8PairBytes+q8PairScales+32 : (nb/2+1)*q8PairBytes])
	}
}
