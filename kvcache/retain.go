package kvcache

import "fmt"

// Retain compacts the sequence's slots in layer to the slots listed in keep
// (strictly increasing slot indices), in order, and returns the blocks it
// no longer needs to the pool, reserved but unused ones included. It
// panics when keep is not such a list.
func (c *Cache) Retain(id int32, layer int, keep []int) {
	t := &c.seq(id).layers[layer]
	for i, k := range keep {
		if k < 0 || k >= t.n || (i > 0 && k <= keep[i-1]) {
			panic(fmt.Sprintf("kvcache: retain: slot list not increasing within [0, %d) at %d", t.n, i))
		}
	}
	bs := c.opt.BlockSize
	for d, s := range keep {
		if s != d {
			c.bp.moveSlot(t.blocks[d/bs], d%bs, t.blocks[s/bs], s%bs)
		}
	}
	nb := (len(keep) + bs - 1) / bs
	for _, b := range t.blocks[nb:] {
		c.bp.release(b)
	}
	t.blocks = t.blocks[:nb]
	t.n = len(keep)
}
