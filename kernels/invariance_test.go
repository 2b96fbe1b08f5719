package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestBatchInvariance checks that every output of MatMul equals the MatVec
// of its input bit for bit, for all n and thread counts.
func TestBatchInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, shape := range [][2]int{{29, 96}, {13, 3008}} { // short rows, and rows over impl.streamRow (AVX2)
		for _, dt := range []DType{F32, F16, BF16, Q8_0} {
			batchInvariance(t, r, randMat(r, dt, shape[0], shape[1]))
		}
	}
	for _, shape := range [][2]int{{29, 256}, {13, 3072}} {
		for _, dt := range quantTypes {
			if dt != Q8_0 {
				batchInvariance(t, r, randMat(r, dt, shape[0], shape[1]))
			}
		}
	}
}

// batchInvariance checks one matrix against 1 to 9 inputs.
func batchInvariance(t *testing.T, r *rand.Rand, m Mat) {
	dt := m.Type
	{
		x := randFloats(r, 9*m.Cols)
		for _, im := range supportedImpls() {
			ref := make([]float32, 9*m.Rows)
			for b := range 9 {
				matMul(im, nil, ref[b*m.Rows:(b+1)*m.Rows], m, x[b*m.Cols:(b+1)*m.Cols], 1)
			}
			for threads := 1; threads <= 4; threads++ {
				p := NewPool(threads)
				for n := 1; n <= 9; n++ {
					got := make([]float32, n*m.Rows)
					matMul(im, p, got, m, x, n)
					sameBits(t, fmt.Sprintf("%s %v threads=%d n=%d", im.name, dt, threads, n), got, ref[:n*m.Rows])
				}
				p.Close()
			}
		}
	}
}

func TestMatMulZeroAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	p := NewPool(2)
	defer p.Close()
	for _, dt := range []DType{F32, F16, Q8_0, Q4_0, Q4_K, Q6_K} {
		m := randMat(r, dt, 64, 256)
		x := randFloats(r, 5*m.Cols)
		out := make([]float32, 5*m.Rows)
		for _, n := range []int{1, 5} {
			MatMul(p, out, m, x, n) // grow the scratch
			if a := testing.AllocsPerRun(20, func() { MatMul(p, out, m, x, n) }); a != 0 {
				t.Errorf("%v n=%d: %v allocations per MatMul", dt, n, a)
			}
		}
	}
}

// TestFusedProducts checks that MatMul2 and MatMul3 give each matrix the
// bits of its own MatMul, fused (one type and width) or not, and allocate
// nothing.
func TestFusedProducts(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	p := NewPool(2)
	defer p.Close()
	for _, types := range [][3]DType{{F32, F32, F32}, {F16, F16, F16}, {Q8_0, Q8_0, Q8_0}, {F16, Q8_0, F32}} {
		for _, n := range []int{1, 7} {
			ms := [3]Mat{randMat(r, types[0], 40, 128), randMat(r, types[1], 9, 128), randMat(r, types[2], 23, 128)}
			x := randFloats(r, n*128)
			var got, want [3]Product
			for i, m := range ms {
				want[i] = Product{Out: make([]float32, n*m.Rows), M: m}
				got[i] = Product{Out: make([]float32, n*m.Rows), M: m}
				MatMul(p, want[i].Out, m, x, n)
			}
			name := fmt.Sprintf("%v n=%d", types, n)
			MatMul3(p, x, n, got[0], got[1], got[2])
			for i := range got {
				sameBits(t, name+" MatMul3", got[i].Out, want[i].Out)
				clear(got[i].Out)
			}
			MatMul2(p, x, n, got[0], got[2])
			sameBits(t, name+" MatMul2", got[0].Out, want[0].Out)
			sameBits(t, name+" MatMul2", got[2].Out, want[2].Out)
			if a := testing.AllocsPerRun(10, func() { MatMul3(p, x, n, got[0], got[1], got[2]) }); a != 0 {
				t.Errorf("%s: %v allocations per MatMul3", name, a)
			}
		}
	}
}
