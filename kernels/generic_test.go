package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGenericAccuracy checks the reference kernels against float64 sums of
// the dequantized weights (Q8_0 against its quantized activations' error).
func TestGenericAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, dt := range []DType{F32, F16, BF16, Q8_0} {
		for _, k := range []int{32, 64, 160, 1024} {
			m := randMat(r, dt, 5, k)
			x := randFloats(r, k)
			got := make([]float32, m.Rows)
			matMul(genericImpl, nil, got, m, x, 1)
			row := make([]float32, k)
			for i := range m.Rows {
				DequantRow(row, m, i)
				var want, mag float64
				for j := range k {
					want += float64(row[j]) * float64(x[j])
					mag += math.Abs(float64(row[j]) * float64(x[j]))
				}
				tol := 1e-6 * mag
				if dt == Q8_0 {
					tol = 0.02 * mag // activations carry up to 1/254 relative error per block
				}
				if d := math.Abs(float64(got[i]) - want); d > tol {
					t.Errorf("%v k=%d row %d: got %v want %v (|diff| %g > %g)", dt, k, i, got[i], want, d, tol)
				}
			}
		}
	}
}

func TestQuantizeActQ8(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	x := randFloats(r, 96)
	x[5] = 0
	for i := 64; i < 96; i++ {
		x[i] = 0 // an all-zero block
	}
	a := make([]byte, q8ActBytes(len(x)))
	quantizeActQ8(a, x)
	for b := range 3 {
		pair := a[b/2*q8PairBytes:]
		h := 32 * (b % 2)
		d := f32s(pair[q8PairScales+h:])[0]
		for j := range 32 {
			q := int8(pair[h+j])
			if q < -127 {
				t.Fatalf("value -128 in block %d", b)
			}
			if e := math.Abs(float64(d)*float64(q) - float64(x[32*b+j])); e > float64(d)/2*1.0001 {
				t.Errorf("block %d value %d: error %g > d/2 = %g", b, j, e, d/2)
			}
		}
		for l := range 8 {
			var s int32
			for j := 4 * l; j < 4*l+4; j++ {
				s += int32(int8(pair[h+j]))
			}
			if c := int32(leU32(pair[q8PairCorr+h+4*l:])); c != -128*s {
				t.Errorf("block %d lane %d: correction %d, want %d", b, l, c, -128*s)
			}
		}
	}
	for _, v := range a[q8PairBytes+32 : q8PairBytes+64] {
		if v != 0 {
			t.Fatal("unused half of the last pair not cleared")
		}
	}
}

func leU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func TestSum16Order(t *testing.T) {
	// Values chosen so that any other pairing rounds differently.
	var a [lanes]float32
	for l := range a {
		a[l] = float32(l + 1)
	}
	a[0], a[8] = 1e8, -1e8
	a[1], a[9] = 3, 1e-3
	want := (((a[0] + a[8]) + (a[4] + a[12])) + ((a[2] + a[10]) + (a[6] + a[14]))) +
		(((a[1] + a[9]) + (a[5] + a[13])) + ((a[3] + a[11]) + (a[7] + a[15])))
	if got := sum16(&a); got != want {
		t.Errorf("sum16 = %v, want %v", got, want)
	}
}
