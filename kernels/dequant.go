package kernels

// DequantRow writes row i of m as float32 into dst.
func DequantRow(dst []float32, m Mat, i int) {
	row := m.Row(i)
	switch {
	case m.Type == F32:
		copy(dst, f32s(row))
	case m.Type == F16:
		Widen(dst, u16s(row), false)
	case m.Type == BF16:
		Widen(dst, u16s(row), true)
	case m.Type.kQuant():
		dequantSuper(dst, m.Type, row)
	case m.Type.Valid():
		dequantSmall(dst, m.Type, row)
	default:
		panic("kernels: dequant of invalid type " + m.Type.String())
	}
}

// dequantSmall dequantizes a row of 32-value blocks of type t.
func dequantSmall(dst []float32, t DType, row []byte) {
	var s smallBlock
	bb, offset := t.RowBytes(Q8Block), hasMin(t)
	for b := range len(row) / bb {
		decodeSmall(t, row[b*bb:(b+1)*bb], &s)
		out := dst[b*Q8Block : (b+1)*Q8Block]
		for j, q := range s.q {
			out[j] = s.d * float32(q)
			if offset {
				out[j] += s.m
			}
		}
	}
}

// dequantSuper dequantizes a row of 256-value blocks of type t, with
// GGML's rounding: each group's scale d*sc and offset dmin*mn first.
func dequantSuper(dst []float32, t DType, row []byte) {
	var s superBlock
	bb := t.RowBytes(SuperBlock)
	for b := range len(row) / bb {
		decodeSuper(t, row[b*bb:(b+1)*bb], &s)
		out := dst[b*SuperBlock : (b+1)*SuperBlock]
		for g := range SuperBlock / 16 {
			dl, ml := s.d*float32(s.sc[g]), s.dmin*float32(s.mn[g])
			for j := 16 * g; j < 16*g+16; j++ {
				out[j] = dl*float32(s.q[j]) - ml
			}
		}
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
