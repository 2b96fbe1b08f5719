package kvcache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
)

// refSeq mirrors what one sequence's layer should hold, in float64.
type refSeq struct {
	pos  []int32
	k, v [][]float64 // per slot, KVDim values (as stored: F16-rounded when F16)
}

// refAttend is plain two-pass softmax attention in float64 over the slots
// of s at positions up to pos, for query head h of q (Heads×HeadDim).
// It returns the output and the weights of the head.
func refAttend(c *Cache, s *refSeq, q []float32, h int, pos int32) ([]float64, []float64) {
	hd := c.cfg.HeadDim
	kh := h / (c.cfg.Heads / c.cfg.KVHeads)
	scale := 1 / math.Sqrt(float64(hd))
	var scores []float64
	for i, p := range s.pos {
		if p > pos {
			break
		}
		var d float64
		for x := 0; x < hd; x++ {
			d += float64(q[h*hd+x]) * s.k[i][kh*hd+x]
		}
		scores = append(scores, d*scale)
	}
	mx := math.Inf(-1)
	for _, v := range scores {
		mx = math.Max(mx, v)
	}
	var sum float64
	for i, v := range scores {
		scores[i] = math.Exp(v - mx)
		sum += scores[i]
	}
	out := make([]float64, hd)
	for i := range scores {
		scores[i] /= sum
		for x := 0; x < hd; x++ {
			out[x] += scores[i] * s.v[i][kh*hd+x]
		}
	}
	return out, scores
}

// stored rounds a vector of heads of hd values the way the cache stores
// it: F16-rounded when F16, BF16-rounded when BF16, quantized and decoded
// head by head when quantized (see storedKeys for keys).
func stored(dt kernels.DType, hd int, v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		switch dt {
		case kernels.F16:
			x = kernels.F16ToF32(kernels.F32ToF16(x))
		case kernels.BF16:
			x = kernels.BF16ToF32(kernels.F32ToBF16(x))
		}
		out[i] = float64(x)
	}
	if !dt.Float() {
		for h := 0; h < len(v)/hd; h++ {
			copy(out[h*hd:], decodeRow(dt, hd, v[h*hd:(h+1)*hd]))
		}
	}
	return out
}

// refHarness drives a Cache with random inputs and checks every Attend
// output against refAttend.
type refHarness struct {
	t    *testing.T
	kc   *Cache
	r    *rand.Rand
	refs map[int32][]*refSeq // by sequence, per layer
	tol  float64
}

// step writes chunk tokens (seq, pos) in every layer and checks the outputs.
func (h *refHarness) step(toks [][2]int32) {
	c := h.kc.cfg
	var b llama.Batch
	counts := map[int32]int{}
	for _, tk := range toks {
		b.Add(0, tk[1], tk[0], false)
		counts[tk[0]]++
	}
	for s, n := range counts {
		if err := h.kc.Reserve(s, n); err != nil {
			h.t.Fatal(err)
		}
	}
	n, qd, kvd := b.Len(), c.Heads*c.HeadDim, c.KVDim()
	for l := 0; l < c.Layers; l++ {
		q, k, v := randVec(h.r, n*qd), randVec(h.r, n*kvd), randVec(h.r, n*kvd)
		out := make([]float32, n*qd)
		for i := 0; i < n; i++ {
			rs := h.refs[b.Seq[i]][l]
			rs.pos = append(rs.pos, b.Pos[i])
			rs.k = append(rs.k, storedKeys(h.kc.bp.kt, c.HeadDim, k[i*kvd:(i+1)*kvd]))
			rs.v = append(rs.v, stored(h.kc.bp.vt, c.HeadDim, v[i*kvd:(i+1)*kvd]))
		}
		h.kc.Attend(l, &b, q, k, v, out)
		qr := queryAsScored(h.kc.bp.kt, c.HeadDim, q)
		for i := 0; i < n; i++ {
			rs := h.refs[b.Seq[i]][l]
			for hh := 0; hh < c.Heads; hh++ {
				want, _ := refAttend(h.kc, rs, qr[i*qd:(i+1)*qd], hh, b.Pos[i])
				got := out[(i*c.Heads+hh)*c.HeadDim : (i*c.Heads+hh+1)*c.HeadDim]
				for x := range want {
					if d := math.Abs(float64(got[x]) - want[x]); d > h.tol {
						h.t.Fatalf("layer %d token %d head %d [%d]: got %v, want %v", l, i, hh, x, got[x], want[x])
					}
				}
			}
		}
	}
}

// retain compacts one layer of seq in cache and reference alike.
func (h *refHarness) retain(seq int32, layer int, keep []int) {
	h.kc.Retain(seq, layer, keep)
	rs := h.refs[seq][layer]
	var n refSeq
	for _, k := range keep {
		n.pos = append(n.pos, rs.pos[k])
		n.k = append(n.k, rs.k[k])
		n.v = append(n.v, rs.v[k])
	}
	*rs = n
}

func newRefHarness(t *testing.T, dt kernels.DType, bs int, seqs int) *refHarness {
	return newRefHarnessFor(t, tinyConfig, Options{BlockSize: bs, DType: dt}, seqs, 2e-6)
}

// newRefHarnessFor is newRefHarness for model shape c and a cache of 200
// blocks with the options opt (Bytes is set here), checked within tol.
func newRefHarnessFor(t *testing.T, c model.Config, opt Options, seqs int, tol float64) *refHarness {
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	kt, vt := opt.kvTypes()
	opt.Bytes = 200 * BlockBytesKV(c, opt.BlockSize, kt, vt)
	kc, err := New(c, opt, pool)
	if err != nil {
		t.Fatal(err)
	}
	h := &refHarness{t: t, kc: kc, r: rand.New(rand.NewPCG(21, 22)), refs: map[int32][]*refSeq{}, tol: tol}
	for range seqs {
		s := h.kc.NewSeq()
		for range c.Layers {
			h.refs[s] = append(h.refs[s], &refSeq{})
		}
	}
	return h
}

func TestAttendMatchesFloat64Reference(t *testing.T) {
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16} {
		for _, bs := range []int{1, 4, 16} {
			t.Run(fmt.Sprintf("%v/block%d", dt, bs), func(t *testing.T) {
				runRefPlan(newRefHarness(t, dt, bs, 2))
			})
		}
	}
}

// runRefPlan drives h (two sequences) through prefill chunks, decode steps
// and compactions, checking every output.
func runRefPlan(h *refHarness) {
	// Prefill chunks of two sequences in one batch, positions with gaps.
	var chunk [][2]int32
	for i := int32(0); i < 9; i++ {
		chunk = append(chunk, [2]int32{0, 3 + 2*i})
	}
	for i := int32(0); i < 5; i++ {
		chunk = append(chunk, [2]int32{1, i})
	}
	h.step(chunk)
	h.step([][2]int32{{1, 5}, {1, 6}, {1, 7}, {0, 40}})
	for p := int32(0); p < 6; p++ { // decode
		h.step([][2]int32{{0, 41 + p}, {1, 8 + p}})
	}
	// Compact layer 1 of sequence 0 and go on decoding.
	h.retain(0, 1, []int{0, 2, 3, 7, 12, 14})
	h.retain(1, 0, []int{5, 6, 13})
	for p := int32(0); p < 4; p++ {
		h.step([][2]int32{{1, 20 + p}, {0, 50 + p}})
	}
	h.step([][2]int32{{0, 60}, {0, 61}, {0, 62}})
}
