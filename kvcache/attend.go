package kvcache

import (
	"fmt"
	"math"

	"sieve/kernels"
	"sieve/llama"
)

// attention is the state of one Attend call, shared by the pool workers.
type attention struct {
	c      *Cache
	layer  int
	b      *llama.Batch
	q      []float32
	out    []float32
	slot   []int32     // per batch token: its slot in its (sequence, layer)
	tabs   []*table    // per batch token: its (sequence, layer) table
	items  []item      // the units of work
	runs   []scoredRun // runs whose weights go into slot scores
	parts  []float32   // partial score sums, one region per accumulating item
	acc    []float32   // reduction buffer
	hook   func(layer int, seq, pos int32, kvHead int, w []float32)
	serial bool // run the items on the caller (hook order across runs)
	calls  int  // Attend calls so far
	fault  panicBox
}

// Attend implements llama.Attention. It appends each token's keys and
// values to its sequence's slots in layer (space must have been reserved
// with Reserve), then computes every token's attention over the slots of
// its sequence up to and including its own. Work is split over (token, KV
// head) pairs on the pool; each query head is one online-softmax pass over
// the slots in order, with the same operations as llama.DenseCache, so F32
// storage gives the same bits. Positions within a (sequence, layer) must
// increase; Attend panics on a broken invariant.
//
// Tokens that score (see Scoring and SetAccumulate) record each slot's
// softmax term during that same pass, and turn them into attention weights
// with the head's final max and sum once the pass is over; the output is
// computed exactly as without scoring.
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
	a.hook = c.scoring.Weights
	a.plan()
	if a.serial {
		a.Range(0, len(a.items))
	} else {
		c.pool.Run(len(a.items), a)
	}
	a.fault.rethrow()
	a.reduce()
	a.b, a.q, a.out, a.hook = nil, nil, nil, nil
}

// Range runs the work items lo..hi.
func (a *attention) Range(lo, hi int) {
	defer a.fault.catch()
	c := a.c
	kvHeads, group := c.cfg.KVHeads, c.cfg.Heads/c.cfg.KVHeads
	buf, bufID := c.scratch.get()
	defer c.scratch.put(bufID)
	for _, it := range a.items[lo:hi] {
		kh0, kh1 := int(it.kh), int(it.kh)+1
		if it.kh < 0 {
			kh0, kh1 = 0, kvHeads
		}
		var part []float32
		if it.part >= 0 {
			part = a.parts[it.part : it.part+it.plen]
		}
		for i := int(it.lo); i < int(it.hi); i++ {
			pos := a.b.Pos[i]
			accum := part != nil && pos >= it.from
			for kh := kh0; kh < kh1; kh++ {
				if !accum && a.hook == nil {
					a.attend(i, kh, buf, nil)
					continue
				}
				n := int(a.slot[i]) + 1
				raw := c.scratch.rawBuf(bufID, 2*group*n)
				a.attend(i, kh, buf, raw)
				w := raw[:n]
				if a.hook != nil {
					a.hook(a.layer, a.b.Seq[i], pos, kh, w)
				}
				if accum {
					kernels.Add(part[:n], w)
				}
			}
		}
	}
}

// attend computes the attention of batch token i for KV head kh (its
// group of query heads). With raw (2×group×n values for the token's n
// visible slots) it also leaves in raw[:n] the token's attention weights
// for the head, averaged over the group.
func (a *attention) attend(i, kh int, buf, raw []float32) {
	c := a.c
	bp := c.bp
	heads, hd := c.cfg.Heads, c.cfg.HeadDim
	group, bs := heads/c.cfg.KVHeads, bp.bs
	var ms, sums [maxGroup]float32
	t := a.tabs[i]
	n := int(a.slot[i]) + 1
	h0 := i*heads + kh*group
	qs := a.q[h0*hd : (h0+group)*hd]
	acc := a.out[h0*hd : (h0+group)*hd]
	clear(acc)
	for g := 0; g < group; g++ {
		ms[g], sums[g] = float32(math.Inf(-1)), 0
	}
	// With raw, each slot's softmax term exp(s - m) and the running max m
	// it was taken against are recorded per head: terms in raw[:group*n],
	// maxima in raw[group*n:].
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
				if raw != nil {
					p := g*n + bi*bs + o
					raw[p], raw[group*n+p] = w, ms[g]
				}
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
	if raw != nil {
		weights(raw, n, group, ms[:group], sums[:group])
	}
}

// weights turns the recorded softmax terms of a head group (see attend)
// into attention weights with the final maxima and sums, term × exp(m_run
// - m) / sum, one exp per change of the running max, and leaves their mean
// over the group in raw[:n].
func weights(raw []float32, n, group int, ms, sums []float32) {
	for g := 0; g < group; g++ {
		terms, runMax := raw[g*n:(g+1)*n], raw[(group+g)*n:(group+g+1)*n]
		inv := 1 / sums[g]
		last, f := float32(math.NaN()), float32(0)
		for p, m := range runMax {
			if m != last {
				last = m
				f = float32(math.Exp(float64(m-ms[g]))) * inv
			}
			terms[p] *= f
		}
	}
	w := raw[:n]
	for g := 1; g < group; g++ {
		kernels.Add(w, raw[g*n:(g+1)*n])
	}
	if group > 1 {
		inv := 1 / float32(group)
		for p := range w {
			w[p] *= inv
		}
	}
}
