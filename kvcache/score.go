package kvcache

import (
	"fmt"
	"math"
	"slices"

	"sieve/kernels"
)

// NoAccumulate, passed to SetAccumulate, turns a layer's scoring off.
const NoAccumulate = math.MaxInt32

// scoreSpan is the number of consecutive tokens of one sequence whose
// weights one work item sums. Spans start at the first scoring token of a
// sequence's run in the batch, so how a sequence's scores are summed
// depends only on that sequence's tokens in the batch.
const scoreSpan = 32

// SetAccumulate makes the sequence's queries at positions from and later
// add their attention weights into the slot scores of layer: each slot's
// score grows by the weight every such query gives it, averaged over all
// query heads, so one query adds a total of 1 over its visible slots.
// NoAccumulate turns that off again (the default). The weights come from
// the attention pass itself (see Attend), so scoring never changes the
// output, and only accumulating queries pay for it.
func (c *Cache) SetAccumulate(id int32, layer int, from int32) {
	c.seq(id).layers[layer].from = from
}

// SetScores replaces the scores of the sequence's slots in layer by
// scores, one per slot. It panics when the lengths differ.
func (c *Cache) SetScores(id int32, layer int, scores []float32) {
	t := &c.seq(id).layers[layer]
	if len(scores) != t.n {
		panic(fmt.Sprintf("kvcache: %d scores for %d slots", len(scores), t.n))
	}
	bs := c.opt.BlockSize
	for i, s := range scores {
		c.bp.scr[int(t.blocks[i/bs])*bs+i%bs] = s
	}
}

// item is one unit of attention work: batch tokens lo..hi of one sequence
// for KV head kh.
type item struct {
	lo, hi int32
	kh     int32
	part   int32 // offset of the item's partial score sums in parts; -1: none
	plen   int32 // length of the part: the slots its last token sees
}

// scoredRun is a run of one sequence's batch tokens whose weights are
// added into its slot scores after the pass.
type scoredRun struct {
	t      *table
	n      int // slots the run's last token sees
	i0, i1 int // its items
}

// plan splits the call into work items. Tokens that do not score share
// passes of up to prefillRun tokens per KV head. The scoring tokens of a
// sequence's run get items of up to scoreSpan tokens per KV head, each
// summing the weights into its own part, so no two workers add into the
// same place and the sums do not depend on how the pool splits the work.
func (a *attention) plan() {
	b := a.b
	n := b.Len()
	kvHeads := int32(a.c.cfg.KVHeads)
	a.items, a.runs, a.parts = a.items[:0], a.runs[:0], a.parts[:0]
	for i := 0; i < n; {
		j := i + 1
		for j < n && b.Seq[j] == b.Seq[i] {
			j++
		}
		from := a.tabs[i].from
		s := i // the run's first scoring token
		for s < j && b.Pos[s] < from {
			s++
		}
		// Unscored tokens go in runs that share one pass, the latest (and
		// costliest) first, since the pool hands items out in order.
		for hi := s; hi > i; hi -= prefillRun {
			lo := max(i, hi-prefillRun)
			for kh := range kvHeads {
				a.items = append(a.items, item{lo: int32(lo), hi: int32(hi), kh: kh, part: -1})
			}
		}
		if s < j {
			r := scoredRun{t: a.tabs[i], n: int(a.slot[j-1]) + 1, i0: len(a.items)}
			for x := s; x < j; x += scoreSpan {
				for kh := range kvHeads {
					a.addItem(x, min(x+scoreSpan, j), kh)
				}
			}
			r.i1 = len(a.items)
			a.runs = append(a.runs, r)
		}
		i = j
	}
}

// addItem appends a scoring item for tokens lo..hi with a zeroed part.
func (a *attention) addItem(lo, hi int, kh int32) {
	plen := int(a.slot[hi-1]) + 1
	off := len(a.parts)
	a.parts = slices.Grow(a.parts, plen)[:off+plen]
	clear(a.parts[off:])
	a.items = append(a.items, item{lo: int32(lo), hi: int32(hi), kh: kh, part: int32(off), plen: int32(plen)})
}

// reduce adds each scored run's parts, in item order, into its slot
// scores, scaled by 1/KVHeads so that every query adds a total of 1.
func (a *attention) reduce() {
	c := a.c
	bp := c.bp
	bs := bp.bs
	inv := 1 / float32(c.cfg.KVHeads)
	for _, r := range a.runs {
		if cap(a.acc) < r.n {
			a.acc = make([]float32, r.n, 2*r.n)
		}
		acc := a.acc[:r.n]
		clear(acc)
		for _, it := range a.items[r.i0:r.i1] {
			kernels.Add(acc, a.parts[it.part:it.part+it.plen])
		}
		for p, v := range acc {
			bp.scr[int(r.t.blocks[p/bs])*bs+p%bs] += v * inv
		}
	}
}
