package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestAllImplementations compares every implementation this CPU supports
// with the generic one. They share the reduction order of reduce.go, so the
// results must be bit-identical.
func TestAllImplementations(t *testing.T) {
	impls := supportedImpls()
	if len(impls) == 1 {
		t.Log("only the generic implementation is available")
	}
	r := rand.New(rand.NewPCG(1, 2))
	floatCols := []int{1, 5, 15, 16, 17, 31, 32, 33, 48, 100, 257}
	q8Cols := []int{32, 64, 96, 160, 288}
	superCols := []int{256, 512, 1280}
	rowsList := []int{1, 2, 3, 4, 5, 7, 9, 13}
	for _, dt := range append([]DType{F32, F16, BF16}, quantTypes...) {
		cols := floatCols
		switch {
		case dt.kQuant():
			cols = superCols
		case !dt.Float():
			cols = q8Cols
		}
		for _, k := range cols {
			for _, rows := range rowsList {
				m := randMat(r, dt, rows, k)
				for _, n := range []int{1, 2, 3, 4, 5, 7} {
					x := randFloats(r, n*k)
					want := make([]float32, n*rows)
					matMul(genericImpl, nil, want, m, x, n)
					for _, im := range impls[1:] {
						got := make([]float32, n*rows)
						matMul(im, nil, got, m, x, n)
						sameBits(t, fmt.Sprintf("%s %v %dx%d n=%d", im.name, dt, rows, k, n), got, want)
					}
				}
			}
		}
	}
}

// TestAllImplementationsLarge covers big tiles, column blocks, packing, dot
// products split into blocks (with several blocks of inputs), and
// matrix-vector products over rows longer than AVX2's impl.streamRow.
func TestAllImplementationsLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dt := range append([]DType{F32, F16, BF16}, quantTypes...) {
		m := randMat(r, dt, 37, 3328)
		for _, n := range []int{1, 13, 40} {
			x := randFloats(r, n*m.Cols)
			want := make([]float32, n*m.Rows)
			matMul(genericImpl, nil, want, m, x, n)
			for _, im := range supportedImpls()[1:] {
				p := NewPool(3)
				got := make([]float32, n*m.Rows)
				matMul(im, p, got, m, x, n)
				p.Close()
				sameBits(t, fmt.Sprintf("%s %v n=%d", im.name, dt, n), got, want)
			}
		}
	}
}

func TestDotAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for k := 1; k < 200; k += 7 {
		a, b := randFloats(r, k), randFloats(r, k)
		want := dotF32(genericImpl, a, b)
		for _, im := range supportedImpls()[1:] {
			sameBits(t, fmt.Sprintf("%s k=%d", im.name, k), []float32{dotF32(im, a, b)}, []float32{want})
		}
	}
}

func TestWidenAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	src := make([]uint16, 16*40)
	for i := range src {
		src[i] = uint16(r.Uint32())
	}
	for _, bf := range []bool{false, true} {
		want := make([]float32, len(src))
		genericWiden(&want[0], &src[0], len(src), bf)
		for _, im := range supportedImpls()[1:] {
			got := make([]float32, len(src))
			im.widen(&got[0], &src[0], len(src), bf)
			for i := range want {
				if want[i] != want[i] && got[i] != got[i] {
					continue // NaN payloads may differ in the quiet bit
				}
				sameBits(t, fmt.Sprintf("%s bf=%v", im.name, bf), got[i:i+1], want[i:i+1])
			}
		}
	}
}
