package kernels

import (
	"encoding/binary"
	"math"
)

// Q8K activations. An input vector for a product with 256-value blocks
// (the K-quants) is quantized once per MatVec/MatMul into one block per
// 256 values (q8kBlockBytes each), as GGML's Q8_K:
//
//	bytes   0..255  the int8 values, in [-127, 127]
//	bytes 256..287  16 int16 sums of 16 consecutive values
//	bytes 288..291  the float32 scale d
//
// and padding to a multiple of 64 bytes.
const (
	q8kBlockBytes = 320
	q8kSums       = 256
	q8kScale      = 288
)

// q8kActBytes returns the size of one Q8K activation of cols values.
func q8kActBytes(cols int) int { return cols / SuperBlock * q8kBlockBytes }

// quantizeActQ8K quantizes x (a multiple of 256 values) into dst as GGML
// does: per block, with m the value of largest magnitude, values
// round(-127/m * x) (halves to even) and scale d = 1/(-127/m). A block
// with a NaN or an infinity has d NaN, so that the NaN reaches every product.
func quantizeActQ8K(dst []byte, x []float32) {
	for b := range len(x) / SuperBlock {
		blk := x[b*SuperBlock : (b+1)*SuperBlock : (b+1)*SuperBlock]
		out := dst[b*q8kBlockBytes : (b+1)*q8kBlockBytes : (b+1)*q8kBlockBytes]
		var amax, vmax float32
		nan := false
		for _, v := range blk {
			a := math.Float32frombits(math.Float32bits(v) & 0x7fffffff)
			if a > amax {
				amax, vmax = a, v
			}
			nan = nan || !(a <= math.MaxFloat32)
		}
		vals := out[:SuperBlock]
		var d float32
		switch {
		case nan:
			d = float32(math.NaN())
			clear(vals)
		case amax == 0:
			clear(vals)
		default:
			is := -127 / vmax
			for j, v := range blk {
				vals[j] = byte(int8(min(127, math.RoundToEven(float64(is*v)))))
			}
			d = 1 / is
		}
		for g := range SuperBlock / 16 {
			var s int16
			for _, v := range vals[16*g : 16*g+16] {
				s += int16(int8(v))
			}
			binary.LittleEndian.PutUint16(out[q8kSums+2*g:], uint16(s))
		}
		binary.LittleEndian.PutUint32(out[q8kScale:], math.Float32bits(d))
		clear(out[q8kScale+4:])
	}
}
