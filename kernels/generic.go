package kernels

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// f32s reinterprets little-endian bytes as float32 values without copying.
func f32s(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// u16s reinterprets little-endian bytes as uint16 values without copying.
func u16s(b []byte) []uint16 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
}

// F32Bytes views a float32 slice as bytes (for building F32 matrices in tests and tools).
func F32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

// dotGeneric is the reference dot product: eight interleaved partial sums,
// combined pairwise. SIMD variants use the same reduction order.
func dotGeneric(a, b []float32) float32 {
	var s [8]float32
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		for j := 0; j < 8; j++ {
			s[j] += a[i+j] * b[i+j]
		}
	}
	for ; i < n; i++ {
		s[i&7] += a[i] * b[i]
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}

// Dot returns the dot product of a and b (len(b) >= len(a)).
func Dot(a, b []float32) float32 { return dotGeneric(a, b[:len(a)]) }

// rowDot returns the dot product of row bytes of type t with x.
func rowDot(t DType, row []byte, x []float32) float32 {
	switch t {
	case F32:
		return dotGeneric(f32s(row), x)
	case F16:
		h := u16s(row)
		var s [8]float32
		for i, v := range h {
			s[i&7] += F16ToF32(v) * x[i]
		}
		return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
	case BF16:
		h := u16s(row)
		var s [8]float32
		for i, v := range h {
			s[i&7] += BF16ToF32(v) * x[i]
		}
		return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
	case Q8_0:
		var sum float32
		for blk := 0; blk*q8BlockBytes < len(row); blk++ {
			b := row[blk*q8BlockBytes : (blk+1)*q8BlockBytes]
			d := F16ToF32(binary.LittleEndian.Uint16(b))
			var s float32
			for j := 0; j < Q8Block; j++ {
				s += float32(int8(b[2+j])) * x[blk*Q8Block+j]
			}
			sum += d * s
		}
		return sum
	}
	panic("kernels: dot of invalid type " + t.String())
}

type matVecTask struct {
	out []float32
	m   Mat
	x   []float32
	n   int
}

func (t *matVecTask) Range(lo, hi int) {
	rb := t.m.Type.RowBytes(t.m.Cols)
	for r := lo; r < hi; r++ {
		row := t.m.Data[r*rb : (r+1)*rb]
		for b := 0; b < t.n; b++ {
			t.out[b*t.m.Rows+r] = rowDot(t.m.Type, row, t.x[b*t.m.Cols:(b+1)*t.m.Cols])
		}
	}
}

// MatVec computes out[r] = m.Row(r) · x for every row.
func MatVec(p *Pool, out []float32, m Mat, x []float32) { MatMul(p, out, m, x, 1) }

// MatMul computes, for each of the n inputs x[b*Cols:(b+1)*Cols],
// out[b*Rows+r] = m.Row(r) · x_b. Each output's bits depend only on its row
// and input, never on n or the thread count.
func MatMul(p *Pool, out []float32, m Mat, x []float32, n int) {
	t := matVecTask{out: out, m: m, x: x, n: n}
	p.Run(m.Rows, &t)
}

// DequantRow writes row i of m as float32 into dst.
func DequantRow(dst []float32, m Mat, i int) {
	row := m.Row(i)
	switch m.Type {
	case F32:
		copy(dst, f32s(row))
	case F16:
		for j, v := range u16s(row) {
			dst[j] = F16ToF32(v)
		}
	case BF16:
		for j, v := range u16s(row) {
			dst[j] = BF16ToF32(v)
		}
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

// RMSNorm writes x / rms(x) * w into out.
func RMSNorm(out, x, w []float32, eps float32) {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	scale := float32(1 / math.Sqrt(float64(ss/float32(len(x))+eps)))
	for i, v := range x {
		out[i] = w[i] * (scale * v)
	}
}

// SiLUMul sets gate[i] = silu(gate[i]) * up[i].
func SiLUMul(gate, up []float32) {
	for i, g := range gate {
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// Softmax normalises x in place.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - mx)))
		x[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] *= inv
	}
}

// Axpy sets y[i] += a * x[i].
func Axpy(a float32, x, y []float32) {
	for i, v := range x {
		y[i] += a * v
	}
}

// Add sets dst[i] += x[i].
func Add(dst, x []float32) {
	for i, v := range x {
		dst[i] += v
	}
}

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
