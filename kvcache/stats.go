package kvcache

// Stats is a snapshot of the pool's usage.
type Stats struct {
	BlockSize  int
	BlockBytes int64
	Blocks     int   // in the pool
	Used       int   // held by at least one sequence
	Free       int   // Blocks - Used
	LayerUsed  []int // blocks in use per layer
	// Cached is the number of blocks the prefix cache holds, and
	// CachedIdle those of them no sequence holds (counted in Free).
	Cached     int
	CachedIdle int
}

// Stats reports the pool's usage. It is safe to call concurrently with the
// cache's other methods; the figures are read one by one, not atomically.
func (c *Cache) Stats() Stats {
	used := int(c.bp.used.Load())
	st := Stats{
		BlockSize:  c.opt.BlockSize,
		BlockBytes: BlockBytesKV(c.cfg, c.opt.BlockSize, c.bp.kt, c.bp.vt),
		Blocks:     c.bp.total(),
		Used:       used,
		Free:       c.bp.total() - used,
		LayerUsed:  make([]int, len(c.bp.layerUsed)),
		Cached:     int(c.bp.cached.Load()),
		CachedIdle: int(c.bp.idle.Load()),
	}
	for i := range c.bp.layerUsed {
		st.LayerUsed[i] = int(c.bp.layerUsed[i].Load())
	}
	return st
}
