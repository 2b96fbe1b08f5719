package kvcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"testing"

	"sieve/kernels"
	"sieve/model"
)

// decodeRow quantizes v (one head of hd values) as the cache stores it and
// decodes it by hand from GGML's layout: blocks of min(hd, 32) values, an
// F16 scale d then the values, d*q for Q8_0 and d*(q-8) for Q4_0, whose
// nibbles hold the block's first half low and second half high.
func decodeRow(dt kernels.DType, hd int, v []float32) []float64 {
	row := make([]byte, kernels.KVRowBytes(dt, hd))
	kernels.QuantizeRow(dt, row, v)
	g := min(hd, 32)
	out := make([]float64, hd)
	for b := 0; b < hd/g; b++ {
		blk := row[b*kernels.KVRowBytes(dt, g):]
		d := float64(kernels.F16ToF32(binary.LittleEndian.Uint16(blk)))
		for j := range g {
			var q int
			switch dt {
			case kernels.Q8_0:
				q = int(int8(blk[2+j]))
			case kernels.Q4_0:
				n := blk[2+j%(g/2)]
				if j >= g/2 {
					n >>= 4
				}
				q = int(n&15) - 8
			}
			out[b*g+j] = float32As64(d * float64(q))
		}
	}
	return out
}

// float32As64 rounds x to float32, as the kernels hold a decoded value.
func float32As64(x float64) float64 { return float64(float32(x)) }

// storedKeys is stored for keys, which quantized types store rotated (by
// rotateHeads, tested on its own): the values are in the rotated space,
// where queryAsScored puts the queries too.
func storedKeys(dt kernels.DType, hd int, k []float32) []float64 {
	if rotates(!dt.Float(), hd) {
		k = slices.Clone(k)
		rotateHeads(k, hd)
	}
	return stored(dt, hd, k)
}

// queryAsScored returns the queries q (heads of hd values) as attention
// over keys of type kt sees them: as they are for float keys; rotated for
// quantized keys (see storedKeys), and then for quantized keys in 32-value
// blocks rounded to int8 times the block scale max|x|/127, halves away
// from zero, in float32 as the kernels quantize them.
func queryAsScored(kt kernels.DType, hd int, q []float32) []float32 {
	if kt.Float() {
		return q
	}
	q = slices.Clone(q)
	rotateHeads(q, hd)
	if hd%32 != 0 {
		return q
	}
	out := make([]float32, len(q))
	for b := 0; b < len(q); b += 32 {
		var amax float32
		for _, x := range q[b : b+32] {
			amax = max(amax, float32(math.Abs(float64(x))))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		for j, x := range q[b : b+32] {
			r := float64(x * id)
			n := math.Min(math.Floor(math.Abs(r)+0.5), 127)
			out[b+j] = float32(float64(d) * math.Copysign(n, r))
		}
	}
	return out
}

// TestQuantAttendMatchesFloat64Reference runs the reference plan (prefill,
// decode, compaction) with quantized keys and values, against float64
// attention over the values as stored and the queries as scored: within
// 1e-5, float32 rounding of sums of up to 32 terms.
func TestQuantAttendMatchesFloat64Reference(t *testing.T) {
	types := [][2]kernels.DType{{kernels.Q8_0, kernels.Q8_0}, {kernels.Q4_0, kernels.Q4_0}, {kernels.Q8_0, kernels.F16}, {kernels.BF16, kernels.Q4_0}}
	for _, c := range []model.Config{quantConfig, tinyConfig} {
		for _, kv := range types {
			for _, bs := range []int{1, 4, 16} {
				t.Run(fmt.Sprintf("hd%d/%v-%v/block%d", c.HeadDim, kv[0], kv[1], bs), func(t *testing.T) {
					opt := Options{BlockSize: bs, DType: kv[0], SplitTypes: true, ValueDType: kv[1]}
					runRefPlan(newRefHarnessFor(t, c, opt, 2, 1e-5))
				})
			}
		}
	}
}

// TestQuantBlockBytes checks block sizes by hand: per slot and KV head a
// key row and a value row, plus 8 bytes of metadata per slot.
func TestQuantBlockBytes(t *testing.T) {
	tests := []struct {
		c      model.Config
		kt, vt kernels.DType
		want   int64
	}{
		{quantConfig, kernels.F16, kernels.F16, 16 * (2*(64+64) + 8)},
		{quantConfig, kernels.Q8_0, kernels.Q8_0, 16 * (2*(34+34) + 8)},
		{quantConfig, kernels.Q4_0, kernels.Q4_0, 16 * (2*(18+18) + 8)},
		{quantConfig, kernels.Q8_0, kernels.Q4_0, 16 * (2*(34+18) + 8)},
		{tinyConfig, kernels.Q8_0, kernels.Q8_0, 16 * (2*(18+18) + 8)}, // short blocks of 16
		{tinyConfig, kernels.Q4_0, kernels.Q4_0, 16 * (2*(10+10) + 8)},
	}
	for _, tt := range tests {
		if got := BlockBytesKV(tt.c, 16, tt.kt, tt.vt); got != tt.want {
			t.Errorf("head dim %d, %v keys, %v values: %d bytes, want %d", tt.c.HeadDim, tt.kt, tt.vt, got, tt.want)
		}
	}
}

// TestQuantCapacity checks that the same pool holds more tokens with
// smaller types.
func TestQuantCapacity(t *testing.T) {
	bytes := 64 * BlockBytes(quantConfig, 16, kernels.F16)
	var prev int
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16, kernels.Q8_0, kernels.Q4_0} {
		kc, err := New(quantConfig, Options{Bytes: bytes, DType: dt}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := kc.CapacityTokens()
		if want := kc.Blocks() / quantConfig.Layers * 16; got != want || got <= prev {
			t.Errorf("%v: capacity %d tokens (blocks %d), after %d", dt, got, kc.Blocks(), prev)
		}
		prev = got
	}
}

// TestQuantRefusesHeadDims checks that a quantized type whose blocks do
// not fit the head dimension, and a type that cannot store KV, are
// refused with ErrDType.
func TestQuantRefusesHeadDims(t *testing.T) {
	odd := quantConfig
	odd.HeadDim, odd.Dim, odd.RopeDim = 24, 96, 24
	tests := []struct {
		name string
		c    model.Config
		opt  Options
	}{
		{"q8_0 keys, head dim 24", odd, Options{DType: kernels.Q8_0}},
		{"q4_0 values, head dim 24", odd, Options{DType: kernels.F16, SplitTypes: true, ValueDType: kernels.Q4_0}},
		{"q4_K", quantConfig, Options{DType: kernels.Q4_K}},
	}
	for _, tt := range tests {
		tt.opt.Bytes = 1 << 20
		_, err := New(tt.c, tt.opt, nil)
		if !errors.Is(err, ErrDType) {
			t.Errorf("%s: New gave %v, want ErrDType", tt.name, err)
		}
	}
	if _, err := New(odd, Options{Bytes: 1 << 20, DType: kernels.F16}, nil); err != nil {
		t.Errorf("f16 with head dim 24: %v", err)
	}
}

// TestRotateHeads checks the rotation against the normalized Hadamard
// matrix, H[i][j] = (-1)^popcount(i&j) / sqrt(n), in float64, and that it
// is its own inverse.
func TestRotateHeads(t *testing.T) {
	for _, hd := range []int{2, 8, 16, 64, 128} {
		x := make([]float32, 2*hd)
		for i := range x {
			x[i] = float32(math.Sin(float64(3*i+hd))) * float32(1+i%5)
		}
		x[1] = 300 // an outlier channel
		y := slices.Clone(x)
		rotateHeads(y, hd)
		for h := 0; h < 2; h++ {
			for i := range hd {
				var want float64
				for j := range hd {
					sign := 1.0
					if bits.OnesCount(uint(i&j))%2 == 1 {
						sign = -1
					}
					want += sign * float64(x[h*hd+j])
				}
				want /= math.Sqrt(float64(hd))
				if got := float64(y[h*hd+i]); math.Abs(got-want) > 1e-6*(1+math.Abs(want))*float64(hd) {
					t.Fatalf("hd %d head %d [%d]: %v, want %v", hd, h, i, got, want)
				}
			}
		}
		rotateHeads(y, hd)
		for i := range x {
			if math.Abs(float64(y[i]-x[i])) > 1e-4*(1+math.Abs(float64(x[i]))) {
				t.Fatalf("hd %d: rotating twice gives %v at %d, want %v", hd, y[i], i, x[i])
			}
		}
	}
	if rotates(true, 24) || rotates(false, 64) || !rotates(true, 8) {
		t.Error("rotates: wrong choice of head dimensions or types")
	}
}
