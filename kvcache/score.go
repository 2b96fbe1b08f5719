package kvcache

import (
	"math"

	"sieve/kernels"
)

// Scoring configures the hand-off of attention weights to a sparsity
// scorer. The weights are recomputed after the attention output is final,
// from the same dot products, so asking for them never changes the output.
// The zero value turns scoring off.
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

// enabled reports whether any scoring is asked for.
func (s Scoring) enabled() bool { return s.Accumulate || s.Weights != nil }

// SetScoring turns the hand-off of attention weights on or off.
func (c *Cache) SetScoring(s Scoring) { c.scoring = s }

// scoreRun is a maximal run of batch tokens of one sequence.
type scoreRun struct{ lo, hi int }

// scorer computes the attention weights of one Attend call, one run per task.
type scorer struct {
	a      *attention
	runs   []scoreRun
	passes int
}

// score runs the scoring pass after attention. Runs of one sequence are
// scored in parallel with other sequences' runs; a batch that lists one
// sequence in two separate runs is scored on the caller.
func (c *Cache) score() {
	a := &c.att
	sc := &c.scorer
	sc.a = a
	sc.passes++
	sc.runs = sc.runs[:0]
	parallel := true
	seq := a.b.Seq
	for i := 0; i < len(seq); {
		j := i + 1
		for j < len(seq) && seq[j] == seq[i] {
			j++
		}
		s := c.seqs[seq[i]]
		if s.mark == sc.passes {
			parallel = false
		}
		s.mark = sc.passes
		sc.runs = append(sc.runs, scoreRun{i, j})
		i = j
	}
	if parallel {
		c.pool.Run(len(sc.runs), sc)
	} else {
		sc.Range(0, len(sc.runs))
	}
	sc.a = nil
	a.fault.rethrow()
}

// Range scores runs lo..hi.
func (s *scorer) Range(lo, hi int) {
	a := s.a
	defer a.fault.catch()
	c := a.c
	bp := c.bp
	heads, kvHeads, hd := c.cfg.Heads, c.cfg.KVHeads, c.cfg.HeadDim
	group, bs := heads/kvHeads, bp.bs
	buf, bufID := c.scratch.get()
	defer c.scratch.put(bufID)
	for _, r := range s.runs[lo:hi] {
		id := a.b.Seq[r.lo]
		st := c.seqs[id]
		for i := r.lo; i < r.hi; i++ {
			t := a.tabs[i]
			n := int(a.slot[i]) + 1
			if cap(st.wbuf) < n {
				st.wbuf = make([]float32, n, 2*n)
			}
			w := st.wbuf[:n]
			for kh := 0; kh < kvHeads; kh++ {
				clear(w)
				h0 := i*heads + kh*group
				for bi := 0; bi*bs < n; bi++ {
					cnt := min(bs, n-bi*bs)
					keys, _ := bp.headRun(t.blocks[bi], kh, cnt, buf)
					for o := 0; o < cnt; o++ {
						key := keys[o*hd : (o+1)*hd]
						p := bi*bs + o
						for g := 0; g < group; g++ {
							q := a.q[(h0+g)*hd : (h0+g+1)*hd]
							x := kernels.Dot(q, key) * c.scale
							w[p] += float32(math.Exp(float64(x-a.mfin[h0+g]))) / a.sfin[h0+g]
						}
					}
				}
				inv := 1 / float32(group)
				for p := range w {
					w[p] *= inv
				}
				if c.scoring.Weights != nil {
					c.scoring.Weights(a.layer, id, a.b.Pos[i], kh, w)
				}
				if c.scoring.Accumulate {
					share := 1 / float32(kvHeads)
					for p, v := range w {
						blk := t.blocks[p/bs]
						if !bp.shared(blk) {
							bp.scr[int(blk)*bs+p%bs] += v * share
						}
					}
				}
			}
		}
	}
}
