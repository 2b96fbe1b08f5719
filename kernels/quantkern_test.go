package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// quantCols returns row lengths to test for type t.
func quantCols(t DType) []int {
	if t.kQuant() {
		return []int{256, 768, 2048}
	}
	return []int{32, 160, 1024}
}

// TestDequantRowReference checks DequantRow of every quantized type
// against the float64 reference decoder.
func TestDequantRowReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, dt := range quantTypes {
		m := randMat(r, dt, 3, 2*dt.BlockSize())
		got := make([]float32, m.Cols)
		for i := range m.Rows {
			DequantRow(got, m, i)
			want := refDecode(dt, m.Row(i))
			bs := dt.BlockSize()
			for b := 0; b < m.Cols; b += bs {
				var mag float64
				for _, v := range want[b : b+bs] {
					mag = math.Max(mag, math.Abs(v))
				}
				for j := b; j < b+bs; j++ {
					// Float32 rounding of the group scale, the value and the
					// offset; offsets are at most 63 times dmin, itself at most
					// about a hundredth of the block's range here.
					if d := math.Abs(float64(got[j]) - want[j]); d > 2e-6*mag+1e-9 {
						t.Fatalf("%v row %d value %d: got %v want %v", dt, i, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestGenericQuantAccuracy checks the generic kernels of every quantized
// type against float64 sums of the reference-decoded weights times the
// float inputs. The difference is bounded by the inputs' quantization:
// each input moves by at most half its block's step, max|x|/127/2.
func TestGenericQuantAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, dt := range quantTypes {
		ab := Q8Block
		if dt.kQuant() {
			ab = SuperBlock
		}
		for _, k := range quantCols(dt) {
			m := randMat(r, dt, 4, k)
			x := randFloats(r, k)
			got := make([]float32, m.Rows)
			matMul(genericImpl, nil, got, m, x, 1)
			for i := range m.Rows {
				w := refDecode(dt, m.Row(i))
				var want, mag, bound float64
				for b := 0; b < k; b += ab {
					var amax float64
					for _, v := range x[b : b+ab] {
						amax = math.Max(amax, math.Abs(float64(v)))
					}
					for j := b; j < b+ab; j++ {
						want += w[j] * float64(x[j])
						mag += math.Abs(w[j] * float64(x[j]))
						bound += math.Abs(w[j]) * amax / 254
					}
				}
				tol := bound*1.001 + 1e-5*mag
				if d := math.Abs(float64(got[i]) - want); d > tol {
					t.Errorf("%v k=%d row %d: got %v want %v (|diff| %g > %g)", dt, k, i, got[i], want, d, tol)
				}
			}
		}
	}
}

// TestQuantizeActQ8K checks the 256-value activation blocks: values within
// half a step, the largest magnitude at -127, the group sums, and zero and
// NaN blocks.
func TestQuantizeActQ8K(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	x := randFloats(r, 4*SuperBlock)
	x[300] = 9 // block 1's largest value, positive
	clear(x[2*SuperBlock : 3*SuperBlock])
	x[3*SuperBlock+7] = float32(math.NaN())
	a := make([]byte, q8kActBytes(len(x)))
	quantizeActQ8K(a, x)
	for b := range 4 {
		blk := a[b*q8kBlockBytes:]
		d := f32s(blk[q8kScale:])[0]
		switch b {
		case 2:
			if d != 0 {
				t.Errorf("zero block: d = %v", d)
			}
		case 3:
			if d == d {
				t.Errorf("NaN block: d = %v, want NaN", d)
			}
			continue
		}
		for j := range SuperBlock {
			q := int8(blk[j])
			if q < -127 {
				t.Fatalf("block %d: value -128", b)
			}
			if e := math.Abs(float64(d)*float64(q) - float64(x[b*SuperBlock+j])); e > math.Abs(float64(d))/2*1.0001 {
				t.Errorf("block %d value %d: error %g > |d|/2", b, j, e)
			}
		}
		for g := range 16 {
			var s int
			for _, v := range blk[16*g : 16*g+16] {
				s += int(int8(v))
			}
			if got := int(int16(u16s(blk[q8kSums:])[g])); got != s {
				t.Errorf("block %d group %d: sum %d, want %d", b, g, got, s)
			}
		}
	}
	if q := int8(a[q8kBlockBytes+300-SuperBlock]); q != -127 {
		t.Errorf("largest value quantized to %d, want -127", q)
	}
}

// TestQuantTypesLayout checks the block sizes against GGML's.
func TestQuantTypesLayout(t *testing.T) {
	want := map[DType][2]int{
		Q4_0: {32, 18}, Q4_1: {32, 20}, Q5_0: {32, 22}, Q5_1: {32, 24}, Q8_0: {32, 34}, IQ4_NL: {32, 18},
		Q2_K: {256, 84}, Q3_K: {256, 110}, Q4_K: {256, 144}, Q5_K: {256, 176}, Q6_K: {256, 210}, IQ4_XS: {256, 136},
	}
	for dt, w := range want {
		if got := [2]int{dt.BlockSize(), dt.RowBytes(dt.BlockSize())}; got != w {
			t.Errorf("%v: block %v, want %v", dt, got, w)
		}
	}
	if DType(4).Valid() || DType(15).Valid() {
		t.Error("q4_2 or q8_K reported valid")
	}
	if s := fmt.Sprint(Q4_K, IQ4_XS); s != "q4_K iq4_xs" {
		t.Errorf("names %q", s)
	}
}
