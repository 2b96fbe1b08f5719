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

// Scoring configures the hand-off of attention weights for every sequence
// at once. The weights are taken from the attention pass itself (see
// Attend), so asking for them never changes the output. The zero value
// turns it off; SetAccumulate turns accumulation on per sequence and layer.
type Scoring struct {
	// Accumulate adds to each slot's score the attention weight every query
	// gives it, averaged over all query heads, so one query adds a total of
	// 1 over its visible slots. Slots in shared blocks are not updated.
	Accumulate bool
	// Weights, when set, receives for each query token (at position pos)
	// and KV head the attention weights over the slots it sees (w[i] for
	// slot i), averaged over the query heads of the GQA group, so they sum
	// to 1. It is called from pool workers: concurrently for different
	// sequences, in order for one sequence. w is reused after it returns.
	Weights func(layer int, seq, pos int32, kvHead int, w []float32)
}

// SetScoring sets the scoring of every sequence (see Scoring).
func (c *Cache) SetScoring(s Scoring) { c.scoring = s }

// SetAccumulate makes the sequence's queries at positions from and later
// add their attention weights into the slot scores of layer, as
// Scoring.Accumulate does for every query; NoAccumulate turns that off
// again (the default). Only accumulating queries pay for scoring.
func (c *Cache) SetAccumulate(id int32, layer int, from int32) {
	c.seq(id).layers[layer].from = from
}

// SetScores replaces the scores of the sequence's slots in layer by
// scores, one per slot. Blocks holding the slots are copied first when
// shared; when that needs more blocks than are free, it changes nothing
// and returns an error wrapping ErrNoSpace.
func (c *Cache) SetScores(id int32, layer int, scores []float32) error {
	t := &c.seq(id).layers[layer]
	if len(scores) != t.n {
		return fmt.Errorf("kvcache: %d scores for %d slots", len(scores), t.n)
	}
	bs := c.opt.BlockSize
	if err := c.own(t, layer, 0, (t.n+bs-1)/bs, "setting scores"); err != nil {
		return err
	}
	for i, s := range scores {
		c.bp.scr[int(t.blocks[i/bs])*bs+i%bs] = s
	}
	return nil
}

// item is one unit of attention work: batch tokens lo..hi of one sequence
// for KV head kh, or for every KV head in order when kh < 0.
type item struct {
	lo, hi int32
	kh     int32
	from   int32 // tokens at positions >= from add their weights to the part
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

// plan splits the call into work items. Tokens that do not score get one
// item per (token, KV head). The scoring tokens of a sequence's run get
// items of up to scoreSpan tokens per KV head, each summing the weights
// into its own part, so no two workers add into the same place and the
// sums do not depend on how the pool splits the work. With the weights
// hook, a run is one item over all KV heads, for the hook's ordering.
func (a *attention) plan() {
	c := a.c
	b := a.b
	n := b.Len()
	kvHeads := int32(c.cfg.KVHeads)
	a.items, a.runs, a.parts = a.items[:0], a.runs[:0], a.parts[:0]
	a.serial = false
	a.calls++
	for i := 0; i < n; {
		j := i + 1
		for j < n && b.Seq[j] == b.Seq[i] {
			j++
		}
		from := a.tabs[i].from
		if c.scoring.Accumulate {
			from = 0
		}
		s := i // the run's first token with a scoring item
		if a.hook == nil {
			for s < j && b.Pos[s] < from {
				s++
			}
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
			accum := b.Pos[j-1] >= from
			r := scoredRun{t: a.tabs[i], n: int(a.slot[j-1]) + 1, i0: len(a.items)}
			if a.hook != nil {
				st := c.seqs[b.Seq[i]]
				if st.mark == a.calls {
					a.serial = true // a second run of the sequence
				}
				st.mark = a.calls
				a.addItem(s, j, -1, from, accum)
			} else {
				for x := s; x < j; x += scoreSpan {
					for kh := range kvHeads {
						a.addItem(x, min(x+scoreSpan, j), kh, from, true)
					}
				}
			}
			r.i1 = len(a.items)
			if accum {
				a.runs = append(a.runs, r)
			}
		}
		i = j
	}
}

// addItem appends an item for tokens lo..hi, with a zeroed part when it
// accumulates.
func (a *attention) addItem(lo, hi int, kh, from int32, accum bool) {
	it := item{lo: int32(lo), hi: int32(hi), kh: kh, from: from, part: -1}
	if accum {
		plen := int(a.slot[hi-1]) + 1
		off := len(a.parts)
		a.parts = slices.Grow(a.parts, plen)[:off+plen]
		clear(a.parts[off:])
		it.part, it.plen = int32(off), int32(plen)
	}
	a.items = append(a.items, it)
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
			if it.part >= 0 {
				kernels.Add(acc, a.parts[it.part:it.part+it.plen])
			}
		}
		for p, v := range acc {
			if blk := r.t.blocks[p/bs]; !bp.shared(blk) {
				bp.scr[int(blk)*bs+p%bs] += v * inv
			}
		}
	}
}
