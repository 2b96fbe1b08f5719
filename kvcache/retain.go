package kvcache

import "fmt"

// Retain compacts the sequence's slots in layer to the slots listed in keep
// (strictly increasing slot indices), in order, and returns the blocks it
// no longer needs to the pool, reserved but unused ones included. Blocks
// that receive moved slots are copied first when shared. When those copies
// need more blocks than are free, it changes nothing and returns an error
// wrapping ErrNoSpace.
func (c *Cache) Retain(id int32, layer int, keep []int) error {
	t := &c.seq(id).layers[layer]
	for i, k := range keep {
		if k < 0 || k >= t.n || (i > 0 && k <= keep[i-1]) {
			return fmt.Errorf("kvcache: retain: slot list not increasing within [0, %d) at %d", t.n, i)
		}
	}
	bs := c.opt.BlockSize
	first := 0
	for first < len(keep) && keep[first] == first {
		first++
	}
	if first < len(keep) {
		if err := c.own(t, layer, first/bs, (len(keep)-1)/bs+1, "compaction"); err != nil {
			return err
		}
		for d := first; d < len(keep); d++ {
			s := keep[d]
			c.bp.moveSlot(t.blocks[d/bs], d%bs, t.blocks[s/bs], s%bs)
		}
	}
	nb := (len(keep) + bs - 1) / bs
	for _, b := range t.blocks[nb:] {
		c.bp.release(b)
	}
	t.blocks = t.blocks[:nb]
	t.n = len(keep)
	return nil
}
