package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// attnCase is one attention problem: a group of query heads over n tokens.
type attnCase struct {
	heads, dim, stride, n int
	q, k, v               []float32
	kh, vh                []uint16
}

func newAttnCase(r *rand.Rand, heads, dim, stride, n int) *attnCase {
	c := &attnCase{heads: heads, dim: dim, stride: stride, n: n}
	c.q = randFloats(r, heads*dim)
	c.k = randFloats(r, n*stride)
	c.v = randFloats(r, n*stride)
	c.kh, c.vh = make([]uint16, len(c.k)), make([]uint16, len(c.v))
	for i := range c.k {
		c.kh[i], c.vh[i] = F32ToF16(c.k[i]), F32ToF16(c.v[i])
		c.k[i], c.v[i] = F16ToF32(c.kh[i]), F16ToF32(c.vh[i]) // same values in both types
	}
	return c
}

// run attends in blocks of block tokens and returns the output and the
// normalized weights.
func (c *attnCase) run(im *impl, f16 bool, block int, withScores bool) (out, weights []float32) {
	st := newAttnState(im, c.heads, c.dim)
	scale := float32(1 / math.Sqrt(float64(c.dim)))
	var blocks [][]float32
	for i := 0; i < c.n; i += block {
		b := min(block, c.n-i)
		var sc []float32
		if withScores {
			sc = make([]float32, c.heads*b)
			blocks = append(blocks, sc)
		}
		if f16 {
			st.AttendF16(c.q, c.kh[i*c.stride:], c.vh[i*c.stride:], c.stride, b, scale, sc)
		} else {
			st.AttendF32(c.q, c.k[i*c.stride:], c.v[i*c.stride:], c.stride, b, scale, sc)
		}
	}
	out = make([]float32, c.heads*c.dim)
	st.Finish(out)
	if withScores {
		weights = make([]float32, c.heads*c.n)
		i := 0
		for _, sc := range blocks {
			b := len(sc) / c.heads
			st.NormalizeScores(sc, b)
			for h := range c.heads {
				copy(weights[h*c.n+i:], sc[h*b:(h+1)*b])
			}
			i += b
		}
	}
	return out, weights
}

// reference computes attention in float64.
func (c *attnCase) reference() (out, weights []float64) {
	return attendRef(c.heads, c.dim, c.n,
		func(h, d int) float64 { return float64(c.q[h*c.dim+d]) },
		func(t, d int) float64 { return float64(c.k[t*c.stride+d]) },
		func(t, d int) float64 { return float64(c.v[t*c.stride+d]) })
}

// attendRef is two-pass softmax attention in float64 of heads query heads
// of dim values over n tokens: q(h, d) is value d of query head h, k(t, d)
// and v(t, d) those of token t's key and value.
func attendRef(heads, dim, n int, q func(h, d int) float64, k, v func(t, d int) float64) (out, weights []float64) {
	scale := 1 / math.Sqrt(float64(dim))
	out = make([]float64, heads*dim)
	weights = make([]float64, heads*n)
	for h := range heads {
		w := weights[h*n : (h+1)*n]
		mx := math.Inf(-1)
		for t := range n {
			var s float64
			for d := range dim {
				s += q(h, d) * k(t, d)
			}
			w[t] = s * scale
			mx = math.Max(mx, w[t])
		}
		var sum float64
		for t := range w {
			w[t] = math.Exp(w[t] - mx)
			sum += w[t]
		}
		for t := range w {
			w[t] /= sum
			for d := range dim {
				out[h*dim+d] += w[t] * v(t, d)
			}
		}
	}
	return out, weights
}

func TestAttentionAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, c := range []*attnCase{newAttnCase(r, 3, 64, 64, 100), newAttnCase(r, 4, 8, 8, 37), newAttnCase(r, 1, 33, 40, 17)} {
		wantOut, wantW := c.reference()
		for _, f16 := range []bool{false, true} {
			out, w := c.run(genericImpl, f16, 32, true)
			for i := range out {
				if d := math.Abs(float64(out[i]) - wantOut[i]); d > 1e-5 {
					t.Fatalf("heads %d dim %d f16=%v: out[%d] = %v, want %v", c.heads, c.dim, f16, i, out[i], wantOut[i])
				}
			}
			for i := range w {
				if d := math.Abs(float64(w[i]) - wantW[i]); d > 1e-6 {
					t.Fatalf("heads %d dim %d: weight[%d] = %v, want %v", c.heads, c.dim, i, w[i], wantW[i])
				}
			}
		}
	}
}

// TestAttentionAllImplementations requires bit-identical outputs and
// weights from every implementation, and from every block size that is a
// multiple of 16 (and from asking for scores or not).
func TestAttentionAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, shape := range [][4]int{{1, 16, 16, 1}, {3, 64, 64, 100}, {4, 64, 256, 47}, {4, 128, 128, 33}, {2, 72, 72, 50}, {3, 8, 8, 40}, {2, 33, 35, 20}} {
		c := newAttnCase(r, shape[0], shape[1], shape[2], shape[3])
		for _, f16 := range []bool{false, true} {
			wantOut, wantW := c.run(genericImpl, f16, c.n, true)
			for _, im := range supportedImpls() {
				for _, block := range []int{16, 32, 48, c.n} {
					name := fmt.Sprintf("%s f16=%v heads=%d dim=%d n=%d block=%d", im.name, f16, c.heads, c.dim, c.n, block)
					out, w := c.run(im, f16, block, true)
					sameBits(t, name+" out", out, wantOut)
					sameBits(t, name+" weights", w, wantW)
					out, _ = c.run(im, f16, block, false)
					sameBits(t, name+" out without scores", out, wantOut)
				}
			}
		}
	}
}

// TestAttentionLimited requires each head of a ResetLimited pass, fed
// all the tokens in blocks, to have the bits of a one-head pass fed only
// its own tokens, for every implementation.
func TestAttentionLimited(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for _, shape := range [][3]int{{6, 64, 70}, {12, 64, 35}, {5, 8, 48}, {4, 33, 20}} {
		heads, dim, n := shape[0], shape[1], shape[2]
		c := newAttnCase(r, heads, dim, dim, n)
		lim := make([]int, heads)
		for h := range lim {
			lim[h] = r.IntN(n + 1)
		}
		lim[heads-1] = n
		scale := float32(1 / math.Sqrt(float64(dim)))
		for _, im := range supportedImpls() {
			for _, f16 := range []bool{false, true} {
				attend := func(st *AttnState, q []float32, i, b int) {
					if f16 {
						st.AttendF16(q, c.kh[i*dim:], c.vh[i*dim:], dim, b, scale, nil)
					} else {
						st.AttendF32(q, c.k[i*dim:], c.v[i*dim:], dim, b, scale, nil)
					}
				}
				checkLimited(t, fmt.Sprintf("%s f16=%v heads=%d dim=%d", im.name, f16, heads, dim), newAttnState(im, heads+2, dim), lim, c.q, dim, n, attend)
			}
		}
	}
}

// checkLimited feeds n tokens to st in blocks of 16 in a ResetLimited
// pass with lim, and requires each head to have the bits of a one-head
// pass (of st's implementation) fed only its own tokens.
func checkLimited(t *testing.T, name string, st *AttnState, lim []int, q []float32, dim, n int, attend func(st *AttnState, q []float32, i, b int)) {
	t.Helper()
	st.ResetLimited(lim)
	for i := 0; i < n; i += 16 {
		attend(st, q, i, min(16, n-i))
	}
	got := make([]float32, len(lim)*dim)
	st.Finish(got)
	one := newAttnState(st.im, 1, dim)
	for h := range lim {
		one.Reset()
		if lim[h] > 0 {
			attend(one, q[h*dim:(h+1)*dim], 0, lim[h])
		}
		want := make([]float32, dim)
		one.Finish(want)
		sameBits(t, fmt.Sprintf("%s head %d of %d tokens", name, h, lim[h]), got[h*dim:(h+1)*dim], want)
	}
}

func TestAttentionZeroAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	c := newAttnCase(r, 4, 64, 64, 64)
	st := NewAttnState(4, 64)
	out := make([]float32, 4*64)
	sc := make([]float32, 4*64)
	a := testing.AllocsPerRun(20, func() {
		st.Reset()
		st.AttendF16(c.q, c.kh, c.vh, 64, 64, 0.125, sc)
		st.AttendF32(c.q, c.k, c.v, 64, 64, 0.125, nil)
		st.Finish(out)
		st.NormalizeScores(sc, 64)
	})
	if a != 0 {
		t.Errorf("%v allocations per attention pass", a)
	}
}
