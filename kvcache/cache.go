package kvcache

import (
	"fmt"

	"sieve/kernels"
	"sieve/model"
)

// Cache is a paged KV cache for many sequences of one model, and the paged
// attention over it (it implements llama.Attention; batch sequence ids are
// the ids NewSeq hands out). A Cache is not safe for concurrent use, except
// Stats, which may be called from any goroutine.
type Cache struct {
	cfg   model.Config
	opt   Options
	pool  *kernels.Pool
	bp    *blockPool
	scale float32
	root  BlockHash // parent hash of first blocks (see rootHash)

	seqs    []*seqState // by sequence id; nil when the id is free
	freeIDs []int32

	att     attention
	scratch *scratch // per-worker buffers: F16 conversion, raw attention weights
	old     []int32  // Retain's copy of a table's blocks
}

// seqState is one sequence's block tables, and the hashes of its leading
// full blocks that are attached from or entered into the prefix cache.
type seqState struct {
	layers []table
	chain  []BlockHash
}

// table lists the blocks holding one layer's slots, in slot order.
type table struct {
	blocks []int32
	n      int   // slots in use
	from   int32 // queries at positions >= from accumulate scores (NoAccumulate: none)
}

// New allocates a pool of opt.Bytes for model shape c. Attention runs on pool.
func New(c model.Config, opt Options, pool *kernels.Pool) (*Cache, error) {
	opt = opt.withDefaults()
	if err := opt.validate(c); err != nil {
		return nil, err
	}
	kt, vt := opt.kvTypes()
	n := opt.Bytes / BlockBytesKV(c, opt.BlockSize, kt, vt)
	if n < int64(c.Layers) {
		return nil, fmt.Errorf("kvcache: %d bytes hold %d blocks, fewer than the %d layers", opt.Bytes, n, c.Layers)
	}
	if n > 1<<31-1 {
		n = 1<<31 - 1
	}
	kc := &Cache{
		cfg:   c,
		opt:   opt,
		pool:  pool,
		bp:    newBlockPool(int(n), opt.BlockSize, c.KVHeads, c.HeadDim, c.Layers, kt, vt),
		scale: kernels.AttnScale(c.HeadDim),
		root:  rootHash(opt),
	}
	kc.att.c = kc
	kc.scratch = newScratch(pool.Threads(), c.Heads/c.KVHeads, kc.bp)
	return kc, nil
}

// BlockSize is the number of slots per block.
func (c *Cache) BlockSize() int { return c.opt.BlockSize }

// DType is the storage type of keys (and of values unless
// Options.SplitTypes set another).
func (c *Cache) DType() kernels.DType { return c.opt.DType }

// ValueDType is the storage type of values.
func (c *Cache) ValueDType() kernels.DType { return c.bp.vt }

// CapacityTokens is the number of token slots the pool holds in every
// layer: the longest context one dense sequence can have alone.
func (c *Cache) CapacityTokens() int { return c.bp.total() / c.cfg.Layers * c.opt.BlockSize }

// Blocks is the number of blocks in the pool.
func (c *Cache) Blocks() int { return c.bp.total() }

// FreeBlocks is the number of blocks not held by any sequence: free ones
// and cached ones, which Reserve reclaims (least recently used first).
func (c *Cache) FreeBlocks() int { return c.bp.nfree() }

// NewSeq registers an empty sequence and returns its id.
func (c *Cache) NewSeq() int32 {
	s := &seqState{layers: make([]table, c.cfg.Layers)}
	for l := range s.layers {
		s.layers[l].from = NoAccumulate
	}
	if n := len(c.freeIDs); n > 0 {
		id := c.freeIDs[n-1]
		c.freeIDs = c.freeIDs[:n-1]
		c.seqs[id] = s
		return id
	}
	c.seqs = append(c.seqs, s)
	return int32(len(c.seqs) - 1)
}

// seq returns the state of id, panicking on an unknown id.
func (c *Cache) seq(id int32) *seqState {
	if id < 0 || int(id) >= len(c.seqs) || c.seqs[id] == nil {
		panic(fmt.Sprintf("kvcache: unknown sequence %d", id))
	}
	return c.seqs[id]
}

// Free releases every block of the sequence and retires its id. Blocks
// the prefix cache holds stay cached, the last ones of the sequence
// released first, so that the pool reclaims a cached sequence from its
// end.
func (c *Cache) Free(id int32) {
	s := c.seq(id)
	longest := 0
	for l := range s.layers {
		longest = max(longest, len(s.layers[l].blocks))
	}
	for k := longest - 1; k >= 0; k-- {
		for l := range s.layers {
			if bl := s.layers[l].blocks; k < len(bl) {
				c.bp.release(bl[k])
			}
		}
	}
	c.seqs[id] = nil
	c.freeIDs = append(c.freeIDs, id)
}

// Len is the number of slots the sequence holds in layer.
func (c *Cache) Len(id int32, layer int) int { return c.seq(id).layers[layer].n }

// LayerBlocks is the number of blocks the sequence's table holds in layer,
// reserved ones included.
func (c *Cache) LayerBlocks(id int32, layer int) int { return len(c.seq(id).layers[layer].blocks) }

// Positions appends the positions of the sequence's slots in layer to dst.
func (c *Cache) Positions(id int32, layer int, dst []int32) []int32 {
	return appendSlots(dst, c.bp.pos, &c.seq(id).layers[layer], c.opt.BlockSize)
}

// Scores appends the accumulated scores of the sequence's slots in layer to dst.
func (c *Cache) Scores(id int32, layer int, dst []float32) []float32 {
	return appendSlots(dst, c.bp.scr, &c.seq(id).layers[layer], c.opt.BlockSize)
}

// appendSlots appends to dst the per-slot metadata meta (bs values per
// block) of the table's slots, in slot order.
func appendSlots[T any](dst, meta []T, t *table, bs int) []T {
	for i := 0; i < t.n; i++ {
		dst = append(dst, meta[int(t.blocks[i/bs])*bs+i%bs])
	}
	return dst
}

// Need is the number of free blocks Reserve(id, n) would take: new blocks
// for n more slots in every layer.
func (c *Cache) Need(id int32, n int) int {
	if n <= 0 {
		return 0
	}
	s := c.seq(id)
	bs := c.opt.BlockSize
	need := 0
	for l := range s.layers {
		t := &s.layers[l]
		need += max((t.n+n+bs-1)/bs-len(t.blocks), 0)
	}
	return need
}

// Reserve makes room for n more slots in every layer of the sequence, so
// that the next Attend calls can store n tokens. It takes blocks from the
// pool. It takes nothing and returns an error wrapping ErrNoSpace when the
// pool has too few free blocks.
func (c *Cache) Reserve(id int32, n int) error {
	need := c.Need(id, n)
	if need > c.bp.nfree() {
		return fmt.Errorf("%w: sequence %d needs %d blocks, %d free", ErrNoSpace, id, need, c.bp.nfree())
	}
	if n <= 0 {
		return nil
	}
	s := c.seq(id)
	bs := c.opt.BlockSize
	for l := range s.layers {
		t := &s.layers[l]
		for last := (t.n + n + bs - 1) / bs; len(t.blocks) < last; {
			t.blocks = append(t.blocks, c.bp.alloc(l))
		}
	}
	return nil
}
