package kvcache

import "fmt"

// Retain compacts the sequence's slots in layer to the slots listed in keep
// (strictly increasing slot indices), in order, and returns the blocks it
// no longer needs to the pool, reserved but unused ones included. It
// panics when keep is not such a list.
//
// Retain never writes a block another sequence or the prefix cache holds
// (copy on write): a shared block whose slots change is replaced by a copy
// of the sequence's own. A cached block only this sequence holds is
// likewise left to the cache when the pool has a block to spare, and
// dropped from the cache and compacted in place otherwise. The pool must
// have a free block for every shared block (SharedBlocks); Retain panics
// otherwise.
func (c *Cache) Retain(id int32, layer int, keep []int) {
	t := &c.seq(id).layers[layer]
	for i, k := range keep {
		if k < 0 || k >= t.n || (i > 0 && k <= keep[i-1]) {
			panic(fmt.Sprintf("kvcache: retain: slot list not increasing within [0, %d) at %d", t.n, i))
		}
	}
	bs := c.opt.BlockSize
	nb := (len(keep) + bs - 1) / bs
	d0 := 0 // the first slot that changes
	for d0 < len(keep) && keep[d0] == d0 {
		d0++
	}
	c.old = append(c.old[:0], t.blocks...)
	old := c.old
	c.unshare(t, layer, d0/bs, nb)
	for d := d0 / bs * bs; d < len(keep); d++ {
		s := keep[d]
		db, sb := t.blocks[d/bs], old[s/bs]
		if db != sb || d%bs != s%bs {
			c.bp.moveSlot(db, d%bs, sb, s%bs)
		}
	}
	for i, b := range old {
		if i >= nb || t.blocks[i] != b {
			c.bp.release(b)
		}
	}
	t.blocks = t.blocks[:nb]
	t.n = len(keep)
}

// unshare replaces the blocks lo..hi-1 of table t (layer) that others
// hold by new blocks of its own, which the caller fills; the old ones stay
// referenced until the caller releases them.
func (c *Cache) unshare(t *table, layer, lo, hi int) {
	p := c.bp
	must := 0
	for _, b := range t.blocks[lo:hi] {
		if p.ref[b] > 1 {
			must++
		}
	}
	for i := lo; i < hi; i++ {
		b := t.blocks[i]
		switch {
		case p.ref[b] > 1:
			if p.nfree() == 0 {
				panic(fmt.Sprintf("kvcache: retain: no free block to copy shared block %d into", b))
			}
			t.blocks[i] = p.alloc(layer)
			must--
		case p.entry[b] != nil && p.nfree() > must:
			t.blocks[i] = p.alloc(layer)
		case p.entry[b] != nil:
			p.drop(p.entry[b])
		}
	}
}
