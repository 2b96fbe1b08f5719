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
	for _, dt := range []DType{F32, F16, BF16, Q8_0} {
		m := randMat(r, dt, 29, 96)
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
	for _, dt := range []DType{F32, F16, Q8_0} {
		m := randMat(r, dt, 64, 128)
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
