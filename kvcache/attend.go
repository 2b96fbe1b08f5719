package kvcache

import (
	"fmt"
	"math"

	"sieve/kernels"
	"sieve/llama"
)

// attention is the state of one Attend call, shared by the pool workers.
type attention struct {
	c     *Cache
	layer int
	b     *llama.Batch
	q     []float32
	out   []float32
	slot  []int32  // per batch token: its slot in its (sequence, layer)
	tabs  []*table // per batch token: its (sequence, layer) table
	keep  bool     // record each head's final max and sum (for scoring)
	mfin  []float32
	sfin  []float32
	fault panicBox
}

// Attend implements llama.Attention. It appends each token's keys and
// values to its sequence's slots in layer (space must have been reserved
// with Reserve), then computes every token's attention over the slots of
// its sequence up to and including its own. Work is split over (token, KV
// head) pairs on the pool; each query head is one online-softmax pass over
// the slots in order, with the same operations as llama.DenseCache, so F32
// storage gives the same bits. Positions within a (sequence, layer) must
// increase; Attend panics on a broken invariant.
func (c *Cache) Attend(layer int, b *llama.Batch, q, k, v, out []float32) {
	n := b.Len()
	a := &c.att
	if cap(a.slot) < n {
		a.slot = make([]int32, n)
		a.tabs = make([]*table, n)
	}
	a.slot, a.tabs = a.slot[:n], a.tabs[:n]
	kvDim := c.cfg.KVDim()
	bs := c.opt.BlockSize
	for i := 0; i < n; i++ {
		t := &c.seq(b.Seq[i]).layers[layer]
		if t.n >= len(t.blocks)*bs {
			panic(fmt.Sprintf("kvcache: sequence %d layer %d: no reserved slot", b.Seq[i], layer))
		}
		blk := t.blocks[t.n/bs]
		if c.bp.shared(blk) {
			panic(fmt.Sprintf("kvcache: sequence %d layer %d: write into a shared block", b.Seq[i], layer))
		}
		if t.n > 0 {
			prev := t.blocks[(t.n-1)/bs]
			if last := c.bp.pos[int(prev)*bs+(t.n-1)%bs]; b.Pos[i] <= last {
				panic(fmt.Sprintf("kvcache: sequence %d layer %d: position %d after %d", b.Seq[i], layer, b.Pos[i], last))
			}
		}
		c.bp.write(blk, t.n%bs, b.Pos[i], k[i*kvDim:(i+1)*kvDim], v[i*kvDim:(i+1)*kvDim])
		a.slot[i] = int32(t.n)
		a.tabs[i] = t
		t.n++
	}
	a.layer, a.b, a.q, a.out = layer, b, q, out
	a.keep = c.scoring.enabled()
	if a.keep {
		if m := n * c.cfg.Heads; cap(a.mfin) < m {
			a.mfin, a.sfin = make([]float32, m), make([]float32, m)
		}
	}
	c.pool.Run(n*c.cfg.KVHeads, a)
	a.fault.rethrow()
	if a.keep {
		c.score()
	}
	a.b, a.q, a.out = nil, nil, nil
}

// Range attends for the (token, KV head) pairs lo..hi.
func (a *attention) Range(lo, hi int) {
	defer a.fault.catch()
	c := a.c
	bp := c.bp
	heads, kvHeads, hd := c.cfg.Heads, c.cfg.KVHeads, c.cfg.HeadDim
	group, bs := heads/kvHeads, bp.bs
	buf, bufID := c.scratch.get()
	defer c.scratch.put(bufID)
	var ms, sums [maxGroup]float32
	for j := lo; j < hi; j++ {
		i, kh := j/kvHeads, j%kvHeads
		t := a.tabs[i]
		n := int(a.slot[i]) + 1
		h0 := i*heads + kh*group
		qs := a.q[h0*hd : (h0+group)*hd]
		acc := a.out[h0*hd : (h0+group)*hd]
		clear(acc)
		for g := 0; g < group; g++ {
			ms[g], sums[g] = float32(math.Inf(-1)), 0
		}
		for bi := 0; bi*bs < n; bi++ {
			cnt := min(bs, n-bi*bs)
			keys, vals := bp.headRun(t.blocks[bi], kh, cnt, buf)
			for o := 0; o < cnt; o++ {
				key, val := keys[o*hd:(o+1)*hd], vals[o*hd:(o+1)*hd]
				for g := 0; g < group; g++ {
					ah := acc[g*hd : (g+1)*hd]
					sc := kernels.Dot(qs[g*hd:(g+1)*hd], key) * c.scale
					if sc > ms[g] {
						r := float32(math.Exp(float64(ms[g] - sc)))
						sums[g] *= r
						for x := range ah {
							ah[x] *= r
						}
						ms[g] = sc
					}
					w := float32(math.Exp(float64(sc - ms[g])))
					sums[g] += w
					kernels.Axpy(w, val, ah)
				}
			}
		}
		for g := 0; g < group; g++ {
			ah := acc[g*hd : (g+1)*hd]
			inv := 1 / sums[g]
			for x := range ah {
				ah[x] *= inv
			}
		}
		if a.keep {
			copy(a.mfin[h0:h0+group], ms[:group])
			copy(a.sfin[h0:h0+group], sums[:group])
		}
	}
}
