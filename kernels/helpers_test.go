package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// randFloats returns n values from a normal distribution.
func randFloats(r *rand.Rand, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	return f
}

// randMat returns a random rows×cols matrix of type t. Q8_0 matrices get
// arbitrary int8 values (including -128) and scales; the other quantized
// types arbitrary blocks with sane scales (randQuant).
func randMat(r *rand.Rand, t DType, rows, cols int) Mat {
	m := Mat{Type: t, Rows: rows, Cols: cols, Data: make([]byte, rows*t.RowBytes(cols))}
	switch t {
	case F32:
		copy(m.Data, F32Bytes(randFloats(r, rows*cols)))
	case F16, BF16:
		for i := 0; i < rows*cols; i++ {
			v := float32(r.NormFloat64())
			h := F32ToF16(v)
			if t == BF16 {
				h = F32ToBF16(v)
			}
			binary.LittleEndian.PutUint16(m.Data[2*i:], h)
		}
	case Q8_0:
		for b := 0; b < len(m.Data); b += q8BlockBytes {
			binary.LittleEndian.PutUint16(m.Data[b:], F32ToF16(float32(r.ExpFloat64()*0.01)))
			for j := 2; j < q8BlockBytes; j++ {
				m.Data[b+j] = byte(r.IntN(256))
			}
		}
	default:
		randQuant(r, t, m.Data)
	}
	return m
}

// sameBits reports the first index where got and want differ in bits.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}
