package kernels

import "encoding/binary"

// DequantRow writes row i of m as float32 into dst.
func DequantRow(dst []float32, m Mat, i int) {
	row := m.Row(i)
	switch m.Type {
	case F32:
		copy(dst, f32s(row))
	case F16:
		Widen(dst, u16s(row), false)
	case BF16:
		Widen(dst, u16s(row), true)
	case Q8_0:
		for blk := 0; blk*q8BlockBytes < len(row); blk++ {
			b := row[blk*q8BlockBytes : (blk+1)*q8BlockBytes]
			d := F16ToF32(binary.LittleEndian.Uint16(b))
			for j := 0; j < Q8Block; j++ {
				dst[blk*Q8Block+j] = d * float32(int8(b[2+j]))
			}
		}
	default:
		panic("kernels: dequant of invalid type " + m.Type.String())
	}
}

// Widen converts F16 values (bf false) or BF16 values (bf true) in src to
// float32 in dst (len(dst) >= len(src)). The conversion is exact.
func Widen(dst []float32, src []uint16, bf bool) { widenSlice(active, dst, src, bf) }

// widenSlice is Widen with implementation im.
func widenSlice(im *impl, dst []float32, src []uint16, bf bool) {
	n := len(src)
	if n == 0 {
		return
	}
	_ = dst[n-1]
	n16 := n &^ (lanes - 1)
	if n16 > 0 {
		im.widen(&dst[0], &src[0], n16, bf)
	}
	if n16 < n {
		genericWiden(&dst[n16], &src[n16], n-n16, bf)
	}
}
