package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// quantAttnCase is an attention problem over keys and values stored as
// rows of kt and vt, each padded to a stride of pad more bytes.
type quantAttnCase struct {
	heads, dim, n    int
	kt, vt           DType
	kstride, vstride int
	q                []float32
	k, v             []byte
}

func newQuantAttnCase(r *rand.Rand, kt, vt DType, heads, dim, n, pad int) *quantAttnCase {
	c := &quantAttnCase{heads: heads, dim: dim, n: n, kt: kt, vt: vt,
		kstride: KVRowBytes(kt, dim) + pad, vstride: KVRowBytes(vt, dim) + pad}
	c.q = randFloats(r, heads*dim)
	c.k, c.v = make([]byte, n*c.kstride), make([]byte, n*c.vstride)
	for i := range n {
		QuantizeRow(kt, c.k[i*c.kstride:], randFloats(r, dim))
		QuantizeRow(vt, c.v[i*c.vstride:], randFloats(r, dim))
	}
	return c
}

// run attends in blocks of block tokens (im's kernels) and returns the
// output and the normalized weights.
func (c *quantAttnCase) run(im *impl, block int, withScores bool) (out, weights []float32) {
	st := newAttnState(im, c.heads, c.dim)
	scale := AttnScale(c.dim)
	weights = make([]float32, c.heads*c.n)
	for i := 0; i < c.n; i += block {
		b := min(block, c.n-i)
		var sc []float32
		if withScores {
			sc = make([]float32, c.heads*b)
		}
		st.AttendQuant(c.q, c.k[i*c.kstride:], c.kt, c.v[i*c.vstride:], c.vt, c.kstride, c.vstride, b, scale, sc)
		if withScores {
			defer func() { // after the last block: the final max and sum
				st.NormalizeScores(sc, b)
				for h := range c.heads {
					copy(weights[h*c.n+i:], sc[h*b:(h+1)*b])
				}
			}()
		}
	}
	out = make([]float32, c.heads*c.dim)
	st.Finish(out)
	return out, weights
}

// rows dequantizes n rows of type t stride bytes apart with the generic
// block decoder, in float64.
func rows64(t DType, data []byte, stride, n, dim int) [][]float64 {
	rs := make([][]float64, n)
	f := make([]float32, dim)
	for i := range n {
		row := data[i*stride:]
		if dim%Q8Block != 0 && !t.Float() { // one short block, decoded by hand
			d := float64(F16ToF32(binary.LittleEndian.Uint16(row)))
			for j := range dim {
				if t == Q8_0 {
					f[j] = float32(d * float64(int8(row[2+j])))
				} else {
					b := row[2+j%(dim/2)]
					if j >= dim/2 {
						b >>= 4
					}
					f[j] = float32(d * float64(int(b&15)-8))
				}
			}
		} else {
			DequantRow(f, Mat{Type: t, Rows: 1, Cols: dim, Data: row}, 0)
		}
		rs[i] = make([]float64, dim)
		for j, x := range f {
			rs[i][j] = float64(x)
		}
	}
	return rs
}

// reference computes the attention in float64 over the stored keys and
// values as they decode, with each query head as the kernels see it:
// quantized to int8 with one scale per 32 values when the keys are
// quantized (decoded here independently of the kernels' own decoding).
func (c *quantAttnCase) reference() (out, weights []float64) {
	keys, vals := rows64(c.kt, c.k, c.kstride, c.n, c.dim), rows64(c.vt, c.v, c.vstride, c.n, c.dim)
	q := make([]float64, len(c.q))
	for i, x := range c.q {
		q[i] = float64(x)
	}
	if !c.kt.Float() && c.dim%Q8Block == 0 {
		act := make([]byte, q8ActBytes(c.dim))
		for h := range c.heads {
			quantizeActQ8(act, c.q[h*c.dim:(h+1)*c.dim])
			for j := range c.dim {
				b := j / Q8Block
				pair := act[b/2*q8PairBytes:]
				d := math.Float32frombits(binary.LittleEndian.Uint32(pair[q8PairScales+32*(b%2):]))
				q[h*c.dim+j] = float64(d) * float64(int8(pair[32*(b%2)+j%Q8Block]))
			}
		}
	}
	return attendRef(c.heads, c.dim, c.n,
		func(h, d int) float64 { return q[h*c.dim+d] },
		func(t, d int) float64 { return keys[t][d] },
		func(t, d int) float64 { return vals[t][d] })
}

// kvTypePairs are the key and value types the tests combine.
var kvTypePairs = [][2]DType{{Q8_0, Q8_0}, {Q4_0, Q4_0}, {Q8_0, F16}, {F16, Q8_0}, {Q8_0, Q4_0}, {BF16, BF16}, {F32, Q4_0}}

// TestAttendQuantAccuracy checks the generic kernels against a float64
// reference over the same stored keys, values and (for quantized keys)
// quantized queries: outputs within 1e-5 and weights within 1e-6, the
// float32 rounding of sums of 64 to 128 terms of values near 1.
func TestAttendQuantAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, kv := range kvTypePairs {
		for _, shape := range [][3]int{{3, 64, 100}, {1, 32, 17}, {4, 128, 40}, {2, 8, 30}, {2, 16, 40}} {
			c := newQuantAttnCase(r, kv[0], kv[1], shape[0], shape[1], shape[2], 0)
			wantOut, wantW := c.reference()
			out, w := c.run(genericImpl, 32, true)
			name := fmt.Sprintf("k %v v %v heads %d dim %d n %d", kv[0], kv[1], c.heads, c.dim, c.n)
			for i := range out {
				if d := math.Abs(float64(out[i]) - wantOut[i]); d > 1e-5 {
					t.Fatalf("%s: out[%d] = %v, want %v", name, i, out[i], wantOut[i])
				}
			}
			for i := range w {
				if d := math.Abs(float64(w[i]) - wantW[i]); d > 1e-6 {
					t.Fatalf("%s: weight[%d] = %v, want %v", name, i, w[i], wantW[i])
				}
			}
		}
	}
}

// TestAttendQuantAllImplementations requires every implementation, block
// size (a multiple of 16) and stride to give the generic bits.
func TestAttendQuantAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, kv := range kvTypePairs {
		for _, shape := range [][4]int{{1, 64, 50, 0}, {3, 64, 100, 0}, {4, 128, 33, 6}, {2, 96, 47, 0}, {5, 32, 20, 2}, {2, 8, 40, 0}, {3, 16, 33, 1}} {
			c := newQuantAttnCase(r, kv[0], kv[1], shape[0], shape[1], shape[2], shape[3])
			wantOut, wantW := c.run(genericImpl, c.n, true)
			for _, im := range supportedImpls() {
				for _, block := range []int{16, 32, c.n} {
					name := fmt.Sprintf("%s k %v v %v heads %d dim %d n %d block %d", im.name, kv[0], kv[1], c.heads, c.dim, c.n, block)
					out, w := c.run(im, block, true)
					sameBits(t, name+" out", out, wantOut)
					sameBits(t, name+" weights", w, wantW)
					out, _ = c.run(im, block, false)
					sameBits(t, name+" out without scores", out, wantOut)
				}
			}
		}
	}
}

// TestAttendQuantFloatTypes requires AttendQuant over F32 and F16 rows to
// give the bits of AttendF32 and AttendF16.
func TestAttendQuantFloatTypes(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	c := newAttnCase(r, 3, 64, 64, 70)
	for _, f16 := range []bool{false, true} {
		want, _ := c.run(active, f16, 16, false)
		st := NewAttnState(3, 64)
		for i := 0; i < c.n; i += 16 {
			b := min(16, c.n-i)
			if f16 {
				st.AttendQuant(c.q, u16Bytes(c.kh[i*64:]), F16, u16Bytes(c.vh[i*64:]), F16, 128, 128, b, AttnScale(64), nil)
			} else {
				st.AttendQuant(c.q, F32Bytes(c.k[i*64:]), F32, F32Bytes(c.v[i*64:]), F32, 256, 256, b, AttnScale(64), nil)
			}
		}
		got := make([]float32, 3*64)
		st.Finish(got)
		sameBits(t, fmt.Sprintf("f16=%v", f16), got, want)
	}
}

// TestAttendQuantLimited requires each head of a ResetLimited pass over
// quantized keys to have the bits of a one-head pass over its own tokens,
// and a state reused after Reset to quantize the new queries.
func TestAttendQuantLimited(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	heads, dim, n := 6, 64, 70
	c := newQuantAttnCase(r, Q8_0, Q8_0, heads, dim, n, 0)
	lim := []int{0, 5, 16, 33, 69, 70}
	scale := AttnScale(dim)
	for _, im := range supportedImpls() {
		st := newAttnState(im, heads, dim)
		st.Reset()
		st.AttendQuant(randFloats(r, heads*dim), c.k, Q8_0, c.v, Q8_0, c.kstride, c.vstride, n, scale, nil) // stale queries
		checkLimited(t, im.name, st, lim, c.q, dim, n, func(st *AttnState, q []float32, i, b int) {
			st.AttendQuant(q, c.k[i*c.kstride:], Q8_0, c.v[i*c.vstride:], Q8_0, c.kstride, c.vstride, b, scale, nil)
		})
	}
}

func TestAttendQuantZeroAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(39, 40))
	c := newQuantAttnCase(r, Q8_0, Q4_0, 4, 64, 64, 0)
	st := NewAttnState(4, 64)
	out := make([]float32, 4*64)
	sc := make([]float32, 4*64)
	a := testing.AllocsPerRun(20, func() {
		st.Reset()
		st.AttendQuant(c.q, c.k, c.kt, c.v, c.vt, c.kstride, c.vstride, 64, 0.125, sc)
		st.Finish(out)
	})
	if a != 0 {
		t.Errorf("%v allocations per attention pass", a)
	}
}

// TestQuantizeRowQ4_0 checks the Q4_0 encoding against its definition:
// the value of largest magnitude decodes exactly (as -8 times the scale),
// every other value within half a step, and zeros and a zero block stay 0.
func TestQuantizeRowQ4_0(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	x := randFloats(r, 96)
	x[40] = 9.5 // largest magnitude of block 1, positive
	clear(x[64:])
	row := make([]byte, Q4_0.RowBytes(96))
	QuantizeRowQ4_0(row, x)
	got := make([]float32, 96)
	DequantRow(got, Mat{Type: Q4_0, Rows: 1, Cols: 96, Data: row}, 0)
	for b := range 3 {
		d := float64(F16ToF32(binary.LittleEndian.Uint16(row[18*b:])))
		var amax float64
		for _, v := range x[32*b : 32*b+32] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		if want := amax / 8; math.Abs(math.Abs(d)-want) > want/1024 {
			t.Fatalf("block %d: scale %v, want ±%v", b, d, want)
		}
		for j := 32 * b; j < 32*b+32; j++ {
			if e := math.Abs(float64(got[j]) - float64(x[j])); e > math.Abs(d)/2*(1+1e-6) {
				t.Fatalf("value %d: %v decodes to %v, error %v over half the step %v", j, x[j], got[j], e, d)
			}
		}
	}
	if got[40] != F16ToF32(F32ToF16(9.5/-8))*-8 {
		t.Errorf("the largest value decodes to %v", got[40])
	}
}

// u16Bytes returns the little-endian bytes of h.
func u16Bytes(h []uint16) []byte {
	b := make([]byte, 2*len(h))
	for i, x := range h {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

// TestDequantRowsAllImplementations requires every implementation's row
// dequantization to give the generic decoder's bits, over rows of 1 to 4
// blocks with and without padding between rows.
func TestDequantRowsAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, dt := range []DType{Q8_0, Q4_0} {
		for _, shape := range [][3]int{{1, 32, 0}, {5, 64, 0}, {3, 96, 7}, {16, 128, 2}} {
			rows, d, pad := shape[0], shape[1], shape[2]
			stride := KVRowBytes(dt, d) + pad
			src := make([]byte, rows*stride)
			for i := range rows {
				x := randFloats(r, d)
				x[r.IntN(d)] *= 40 // an outlier sets the scale
				QuantizeRow(dt, src[i*stride:], x)
			}
			want := make([]float32, rows*d)
			for i := range rows {
				dequantSmall(want[i*d:(i+1)*d], dt, src[i*stride:i*stride+KVRowBytes(dt, d)])
			}
			for _, im := range supportedImpls() {
				got := make([]float32, rows*d+1)
				dequantRows(im, dt, &got[0], &src[0], uintptr(stride), rows, d)
				sameBits(t, fmt.Sprintf("%s %v rows %d d %d pad %d", im.name, dt, rows, d, pad), got[:rows*d], want)
				if got[rows*d] != 0 {
					t.Fatalf("%s %v: wrote past the rows", im.name, dt)
				}
			}
		}
	}
}
