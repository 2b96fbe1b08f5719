package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// extremeQuantMat returns a rows×cols Q4_0, IQ4_NL, Q4_K, Q5_K or Q6_K
// matrix at the limits of the integer sums: every code bit set (or none on
// odd rows), Q4_K's and Q5_K's 6-bit scales and mins 63, Q6_K's scales -128 and 127 in turn,
// with small F16 scales.
func extremeQuantMat(t DType, rows, cols int) Mat {
	m := Mat{Type: t, Rows: rows, Cols: cols, Data: make([]byte, rows*t.RowBytes(cols))}
	rb, bb := t.RowBytes(cols), t.RowBytes(t.BlockSize())
	for r := range rows {
		code := byte(0xff)
		if r%2 == 1 {
			code = 0
		}
		for b := r * rb; b < (r+1)*rb; b += bb {
			blk := m.Data[b : b+bb]
			binary.LittleEndian.PutUint16(blk, F32ToF16(1e-3))
			codes := blk[2:]
			switch t {
			case Q6_K:
				binary.LittleEndian.PutUint16(blk[208:], F32ToF16(1e-3))
				for g := range 16 {
					blk[192+g] = byte(0x80 - g%2) // -128, 127
				}
				codes = blk[:192]
			case Q4_K, Q5_K:
				binary.LittleEndian.PutUint16(blk[2:], F32ToF16(2e-3))
				for j := 4; j < 16; j++ {
					blk[j] = 0xff
				}
				codes = blk[16:]
			}
			for j := range codes {
				codes[j] = code
			}
		}
	}
	return m
}

// TestVNNIQuantTiles compares the Q4_0, IQ4_NL, Q4_K, Q5_K and Q6_K products of every
// implementation with the generic kernels, bit for bit, over shapes with
// rows and inputs that leave partial tiles, odd block counts (Q4_0 pairs
// blocks) and both random and extreme weights and inputs (activations
// quantized to ±127 against codes 15 and scales 63, where a saturating or
// overflowing integer step would show).
func TestVNNIQuantTiles(t *testing.T) {
	shapes := []struct{ rows, k, n int }{
		{1, 256, 2}, {3, 256, 5}, {4, 512, 4}, {5, 768, 9}, {8, 256, 17},
		{13, 1280, 6}, {7, 2048, 3}, {6, 768, 8}, {9, 256, 1},
	}
	r := rand.New(rand.NewPCG(31, 32))
	for _, dt := range []DType{Q4_0, IQ4_NL, Q4_K, Q5_K, Q6_K} {
		for _, s := range shapes {
			for _, extreme := range []bool{false, true} {
				k := s.k
				if !dt.kQuant() && !extreme {
					k -= 32 // an odd number of blocks
				}
				m, x := randMat(r, dt, s.rows, k), randFloats(r, s.n*k)
				if extreme {
					m = extremeQuantMat(dt, s.rows, k)
					for i := range x {
						x[i] = float32(1 - 2*(i/5%2)) // runs of ±1
					}
				}
				want := make([]float32, s.n*s.rows)
				matMul(genericImpl, nil, want, m, x, s.n)
				for _, im := range supportedImpls()[1:] {
					got := make([]float32, s.n*s.rows)
					matMul(im, nil, got, m, x, s.n)
					sameBits(t, fmt.Sprintf("%s %v %dx%d n=%d extreme=%v", im.name, dt, s.rows, k, s.n, extreme), got, want)
				}
			}
		}
	}
}

// actBlocks are the special blocks the activation quantizers are checked
// on, each applied to one block of random values.
var actBlocks = map[string]func(b []float32){
	"random": func([]float32) {},
	"tie":    func(b []float32) { b[10], b[20] = -9, 9 },
	"tie2":   func(b []float32) { b[3], b[30] = 9, -9 },
	"zero":   func(b []float32) { clear(b) },
	"nan":    func(b []float32) { b[17] = float32(math.NaN()) },
	"nans": func(b []float32) {
		b[5] = math.Float32frombits(0x7fc00123)
		b[25] = math.Float32frombits(0xffc00456)
		b[28] = 3
	},
	"inf": func(b []float32) { b[31] = float32(math.Inf(-1)) },
	"tiny": func(b []float32) {
		for i := range b {
			b[i] *= 1e-44
		}
	},
	"huge": func(b []float32) {
		for i := range b {
			b[i] *= 1e37
		}
	},
	"halves": func(b []float32) {
		for i := range b {
			b[i] = float32(i%9-4) + 0.5
		}
		b[0] = -127
	},
}

// TestQuantizeActAllImplementations compares every implementation's Q8K
// and Q8 activations with quantizeActQ8K's and quantizeActQ8's byte for
// byte, over the special blocks of actBlocks between random ones and, for
// Q8, odd block counts (a half-empty last pair).
func TestQuantizeActAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	type quant struct {
		block int
		bytes func(int) int
		ref   func([]byte, []float32)
		with  func(*impl, []byte, []float32)
	}
	quants := map[string]quant{
		"q8k": {SuperBlock, q8kActBytes, quantizeActQ8K, quantizeActQ8KWith},
		"q8":  {Q8Block, q8ActBytes, quantizeActQ8, quantizeActQ8With},
	}
	for qn, q := range quants {
		for name, f := range actBlocks {
			for _, nb := range []int{1, 2, 3, 4, 5} {
				x := randFloats(r, nb*q.block)
				f(x[nb/2*q.block : nb/2*q.block+32])
				want := make([]byte, q.bytes(len(x)))
				q.ref(want, x)
				for _, im := range supportedImpls() {
					got := make([]byte, len(want))
					for i := range got {
						got[i] = 0xa5 // every byte must be written
					}
					q.with(im, got, x)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s %s %s nb=%d: byte %d = %#x, want %#x", qn, im.name, name, nb, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
