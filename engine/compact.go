package engine

import (
	"sieve/kvcache"
	"sieve/sparsity"
)

// Compactor applies a sparsity budget to one layer of a paged cache: it
// keeps the slots sparsity.Keep picks, ranked by sparsity.RankScores, and
// frees the blocks left over. Its buffers are reused across calls, so
// steady-state eviction does not allocate. The engine runs one per scheduler; benchmarks that drive a
// cache directly use their own.
type Compactor struct {
	keep    []int
	pos     []int32
	protect []int
	sinks   sparsity.SinkKeeper
	ranked  []float32
}

// Layer compacts layer of sequence id to lb's budget, ranking by scores
// (nil: by recency only) summed from the query at position from on (see
// sparsity.RankScores), and returns the slots dropped and blocks freed.
func (c *Compactor) Layer(kv *kvcache.Cache, id int32, layer int, lb sparsity.LayerBudget, scores []float32, from int32) (dropped, freed int) {
	return c.LayerSinks(kv, id, layer, lb, scores, from, nil, nil)
}

// LayerSinks is Layer with content-aware sinks: the slots at positions p
// where sinks has tokens[p] are kept like sinks (sparsity.SinkKeeper).
// tokens holds the sequence's tokens by position; a nil sinks protects
// nothing.
func (c *Compactor) LayerSinks(kv *kvcache.Cache, id int32, layer int, lb sparsity.LayerBudget, scores []float32, from int32, tokens []int32, sinks *sparsity.SinkTokens) (dropped, freed int) {
	c.pos = kv.Positions(id, layer, c.pos[:0])
	c.protect = c.protect[:0]
	if sinks != nil {
		for i, p := range c.pos {
			if int(p) < len(tokens) && sinks.Has(tokens[p]) {
				c.protect = append(c.protect, i)
			}
		}
	}
	if scores != nil {
		c.ranked = sparsity.RankScores(c.ranked, c.pos, scores, lb, from)
		scores = c.ranked
	}
	c.keep = c.sinks.Keep(c.keep, c.pos, scores, lb, c.protect)
	before := kv.LayerBlocks(id, layer)
	kv.Retain(id, layer, c.keep)
	return len(c.pos) - len(c.keep), before - kv.LayerBlocks(id, layer)
}
