package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// q8Block builds one expected Q8_0 block from a scale's F16 bits and 32 quants.
func q8Block(scale uint16, q [Q8Block]int8) []byte {
	b := binary.LittleEndian.AppendUint16(nil, scale)
	for _, v := range q {
		b = append(b, byte(v))
	}
	return b
}

func TestQuantizeRowQ8_0Blocks(t *testing.T) {
	// Hand-computed: with max|x| = 127 the scale is exactly 1.0 (F16 0x3c00),
	// so the quants are the inputs rounded half away from zero.
	var ones [Q8Block]float32
	var onesQ [Q8Block]int8
	ones[0], onesQ[0] = 127, 127
	ones[1], onesQ[1] = -127, -127
	ones[2], onesQ[2] = 2.5, 3
	ones[3], onesQ[3] = -2.5, -3
	ones[4], onesQ[4] = 0.5, 1
	ones[5], onesQ[5] = -0.49, 0
	ones[6], onesQ[6] = 1.49, 1
	ones[7], onesQ[7] = 100.5, 101

	// max|x| = 254: scale 2.0 (F16 0x4000); 3/2 = 1.5 rounds to 2, -1/2 to -1.
	var twos [Q8Block]float32
	var twosQ [Q8Block]int8
	twos[0], twosQ[0] = -254, -127
	twos[1], twosQ[1] = 3, 2
	twos[2], twosQ[2] = -1, -1
	twos[3], twosQ[3] = 0.9, 0

	// x = j-16: max|x| = 16, d = 16/127 = 0.12598 rounds to F16 0x3008
	// (2^-3 * 1032/1024 = 0.1259765625); q = round(x / 0.1259765625).
	var ramp [Q8Block]float32
	var rampQ [Q8Block]int8
	for j := range ramp {
		ramp[j] = float32(j - 16)
	}
	for j, want := range map[int]int8{0: -127, 15: -8, 16: 0, 17: 8, 18: 16, 19: 24, 31: 119} {
		rampQ[j] = want
	}

	tests := []struct {
		name  string
		src   [Q8Block]float32
		scale uint16
		want  [Q8Block]int8
		check []int // indices to compare; nil means all
	}{
		{"zeros", [Q8Block]float32{}, 0, [Q8Block]int8{}, nil},
		{"scale one", ones, 0x3c00, onesQ, nil},
		{"scale two", twos, 0x4000, twosQ, nil},
		{"ramp", ramp, 0x3008, rampQ, []int{0, 15, 16, 17, 18, 19, 31}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, Q8_0.RowBytes(Q8Block))
			QuantizeRowQ8_0(dst, tc.src[:])
			want := q8Block(tc.scale, tc.want)
			if got := binary.LittleEndian.Uint16(dst); got != tc.scale {
				t.Fatalf("scale bits %#04x, want %#04x", got, tc.scale)
			}
			idx := tc.check
			if idx == nil {
				for i := range Q8Block {
					idx = append(idx, i)
				}
			}
			for _, i := range idx {
				if dst[2+i] != want[2+i] {
					t.Errorf("q[%d] = %d, want %d", i, int8(dst[2+i]), int8(want[2+i]))
				}
			}
		})
	}
}

func TestQuantizeRowQ8_0Dequant(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const cols = 4 * Q8Block
	tests := []struct {
		name string
		gen  func(i int) float32
	}{
		{"normal", func(int) float32 { return float32(rng.NormFloat64()) }},
		{"tiny", func(int) float32 { return float32(rng.NormFloat64() * 1e-6) }},
		{"mixed blocks", func(i int) float32 {
			if i/Q8Block%2 == 0 {
				return 0
			}
			return float32(rng.NormFloat64() * 100)
		}},
		{"huge", func(int) float32 { return float32(rng.NormFloat64() * 1e7) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := make([]float32, cols)
			for i := range src {
				src[i] = tc.gen(i)
			}
			m := Mat{Type: Q8_0, Rows: 1, Cols: cols, Data: make([]byte, Q8_0.RowBytes(cols))}
			QuantizeRowQ8_0(m.Data, src)
			got := make([]float32, cols)
			DequantRow(got, m, 0)
			for i, x := range src {
				blk := i / Q8Block
				d := F16ToF32(binary.LittleEndian.Uint16(m.Data[blk*(2+Q8Block):]))
				var amax float64
				for _, v := range src[blk*Q8Block : (blk+1)*Q8Block] {
					amax = math.Max(amax, math.Abs(float64(v)))
				}
				bound := float64(d)/2*(1+1e-6) + 1e-30
				if d < 1.0/(1<<14) || amax/127 > maxF16 {
					// The scale is zero, subnormal or saturated in F16: values are zero or clamped.
					bound = amax
				}
				if diff := math.Abs(float64(got[i]) - float64(x)); diff > bound {
					t.Fatalf("value %d: %g dequantizes to %g (error %g > %g, d = %g)", i, x, got[i], diff, bound, d)
				}
			}
		})
	}
}
