package kvcache

import (
	"errors"
	"fmt"
)

// ErrInconsistent reports a broken block ownership invariant (Audit).
var ErrInconsistent = errors.New("kvcache: inconsistent block ownership")

// Audit checks the pool's ownership invariants: each block's reference
// count is the number of sequence tables holding it; each block is exactly
// one of held, cached and idle (in the LRU list), or free; every cache
// entry holds one block per layer, of that layer, and is indexed by its
// hash. It is for tests; it walks every block.
func (c *Cache) Audit() error {
	p := c.bp
	n := p.total()
	refs := make([]int32, n)
	for id, s := range c.seqs {
		if s == nil {
			continue
		}
		for l := range s.layers {
			for _, b := range s.layers[l].blocks {
				refs[b]++
				if int(p.layer[b]) != l {
					return fmt.Errorf("%w: sequence %d layer %d holds block %d of layer %d", ErrInconsistent, id, l, b, p.layer[b])
				}
			}
		}
	}
	inFree := make([]bool, n)
	for _, b := range p.free {
		if inFree[b] {
			return fmt.Errorf("%w: block %d twice in the free list", ErrInconsistent, b)
		}
		inFree[b] = true
	}
	inLRU := make([]bool, n)
	for b, k := p.lru.next[p.lru.sentinel()], 0; b != p.lru.sentinel(); b, k = p.lru.next[b], k+1 {
		if k > n || inLRU[b] {
			return fmt.Errorf("%w: the LRU list loops at block %d", ErrInconsistent, b)
		}
		inLRU[b] = true
	}
	used, idle := 0, 0
	for b := range n {
		switch {
		case refs[b] != p.ref[b]:
			return fmt.Errorf("%w: block %d has %d references, %d tables hold it", ErrInconsistent, b, p.ref[b], refs[b])
		case p.ref[b] > 0 && (inFree[b] || inLRU[b]):
			return fmt.Errorf("%w: held block %d is free or idle", ErrInconsistent, b)
		case p.ref[b] == 0 && inFree[b] == (p.entry[b] != nil):
			return fmt.Errorf("%w: unheld block %d: free %v, cached %v", ErrInconsistent, b, inFree[b], p.entry[b] != nil)
		case p.ref[b] == 0 && inLRU[b] != (p.entry[b] != nil):
			return fmt.Errorf("%w: unheld cached block %d not idle", ErrInconsistent, b)
		}
		if p.ref[b] > 0 {
			used++
		} else if inLRU[b] {
			idle++
		}
	}
	cached := 0
	for h, e := range p.index {
		if e.hash != h || len(e.blocks) != len(p.layerUsed) {
			return fmt.Errorf("%w: cache entry %x malformed", ErrInconsistent, h[:4])
		}
		for l, b := range e.blocks {
			if p.entry[b] != e || int(p.layer[b]) != l {
				return fmt.Errorf("%w: cache entry %x: block %d of layer %d", ErrInconsistent, h[:4], b, l)
			}
		}
		cached += len(e.blocks)
	}
	if used != int(p.used.Load()) || idle != p.lru.n || idle != int(p.idle.Load()) || cached != int(p.cached.Load()) {
		return fmt.Errorf("%w: counters used %d idle %d cached %d, blocks say %d %d %d",
			ErrInconsistent, p.used.Load(), p.idle.Load(), p.cached.Load(), used, idle, cached)
	}
	return nil
}
