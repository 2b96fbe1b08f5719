package kvcache

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// BlockHash identifies the contents of one full block of a token sequence:
// the SHA-256 of its parent block's hash (or, for the first block, of the
// cache's salt) and the block's token ids. It covers the whole prefix up
// to the block's end.
type BlockHash [sha256.Size]byte

// entry is one prefix cache entry: the blocks, one per layer, that hold
// the keys and values of one full block of tokens.
type entry struct {
	hash   BlockHash
	blocks []int32 // by layer
}

// rootHash is the parent hash of a sequence's first block: the SHA-256 of
// everything besides the tokens that changes what a block stores (the
// storage types of keys and values and the block size; the model is the
// cache's own).
func rootHash(opt Options) BlockHash {
	k, v := opt.kvTypes()
	return sha256.Sum256(fmt.Appendf(nil, "sieve kv prefix v2 key=%v value=%v block=%d", k, v, opt.BlockSize))
}

// hashBlock is the hash of the block holding tokens after the block whose
// hash is parent.
func hashBlock(parent BlockHash, tokens []int32) BlockHash {
	buf := make([]byte, 0, len(parent)+4*len(tokens))
	buf = append(buf, parent[:]...)
	for _, t := range tokens {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(t))
	}
	return sha256.Sum256(buf)
}

// drop removes e from the cache: its blocks that no table holds become
// free, the others stay with their tables.
func (p *blockPool) drop(e *entry) {
	delete(p.index, e.hash)
	for _, b := range e.blocks {
		p.entry[b] = nil
		if p.ref[b] == 0 {
			p.lru.remove(b)
			p.idle.Add(-1)
			p.free = append(p.free, b)
		}
	}
	p.cached.Add(-int64(len(e.blocks)))
}

// Attach gives sequence id the longest run of cached full blocks that
// begins tokens, taking at most limit tokens, and returns the number of
// tokens it then holds (a multiple of the block size): the keys and values
// of tokens[:n] are in every layer, as if computed, and the sequence
// shares those blocks with the cache and the other sequences holding them.
// The sequence must be empty, or hold only blocks attached or entered
// before (Attach then extends the run). In the layers where private is
// set the sequence gets copies of its own instead, with zero scores (a
// layer that accumulates scores writes into its blocks); when the pool
// cannot supply a copy, the run stops at that block. Attach panics when
// the sequence holds other slots.
func (c *Cache) Attach(id int32, tokens []int32, limit int, private []bool) int {
	s := c.seq(id)
	bs := c.opt.BlockSize
	k0 := len(s.chain)
	for l := range s.layers {
		if t := &s.layers[l]; t.n != k0*bs || len(t.blocks) != k0 {
			panic(fmt.Sprintf("kvcache: attach to sequence %d, which holds slots of its own", id))
		}
	}
	limit = min(limit, len(tokens))
	parent := c.chainEnd(s)
	for k := k0; (k+1)*bs <= limit; k++ {
		h := hashBlock(parent, tokens[k*bs:(k+1)*bs])
		e := c.bp.index[h]
		if e == nil {
			break
		}
		for l, b := range e.blocks {
			c.bp.share(b)
			s.layers[l].blocks = append(s.layers[l].blocks, b)
		}
		s.chain = append(s.chain, h)
		parent = h
	}
	n := len(s.chain)
copies:
	for k := k0; k < n && private != nil; k++ {
		for l := range s.layers {
			if !private[l] {
				continue
			}
			if c.bp.nfree() == 0 {
				n = k
				break copies
			}
			t := &s.layers[l]
			t.blocks[k] = c.bp.copyBlock(l, t.blocks[k], bs)
		}
	}
	for l := range s.layers {
		t := &s.layers[l]
		for _, b := range t.blocks[n:] {
			c.bp.release(b)
		}
		t.blocks, t.n = t.blocks[:n], n*bs
	}
	s.chain = s.chain[:n]
	return n * bs
}

// copyBlock returns a new block of layer holding a copy of the first
// slots slots of src, with zero scores, and drops the caller's reference
// to src.
func (p *blockPool) copyBlock(layer int, src int32, slots int) int32 {
	dst := p.alloc(layer)
	for o := range slots {
		p.moveSlot(dst, o, src, o)
		p.scr[int(dst)*p.bs+o] = 0
	}
	p.release(src)
	return dst
}

// Register enters into the prefix cache the full blocks of the sequence
// that hold tokens (its tokens by position, all of them computed) and are
// not entered yet. The sequence must never have been compacted: slot i
// of every layer holds position i. A block whose contents are cached
// already (another sequence computed the same prefix at the same time)
// stays the sequence's own. Once entered, a block is never written again
// (Retain copies it first).
func (c *Cache) Register(id int32, tokens []int32) {
	s := c.seq(id)
	bs := c.opt.BlockSize
	parent := c.chainEnd(s)
	for k := len(s.chain); (k+1)*bs <= len(tokens); k++ {
		for l := range s.layers {
			t := &s.layers[l]
			if t.n < (k+1)*bs || c.bp.pos[int(t.blocks[k])*bs] != int32(k*bs) || c.bp.pos[int(t.blocks[k])*bs+bs-1] != int32(k*bs+bs-1) {
				return // not written yet, or compacted
			}
		}
		h := hashBlock(parent, tokens[k*bs:(k+1)*bs])
		s.chain = append(s.chain, h)
		parent = h
		if c.bp.index[h] != nil {
			continue
		}
		e := &entry{hash: h, blocks: make([]int32, len(s.layers))}
		for l := range s.layers {
			b := s.layers[l].blocks[k]
			if c.bp.entry[b] != nil {
				panic(fmt.Sprintf("kvcache: block %d is cached twice", b))
			}
			e.blocks[l] = b
			c.bp.entry[b] = e
		}
		c.bp.index[h] = e
		c.bp.cached.Add(int64(len(e.blocks)))
	}
}

// PendingHashes appends to dst the hashes of the full blocks of tokens (the
// sequence's tokens by position) beyond those the sequence has attached or
// entered, continuing its chain: the blocks it would enter once computed.
func (c *Cache) PendingHashes(id int32, tokens []int32, dst []BlockHash) []BlockHash {
	s := c.seq(id)
	bs := c.opt.BlockSize
	parent := c.chainEnd(s)
	for k := len(s.chain); (k+1)*bs <= len(tokens); k++ {
		parent = hashBlock(parent, tokens[k*bs:(k+1)*bs])
		dst = append(dst, parent)
	}
	return dst
}

// SharedBlocks is the number of blocks of the sequence's table in layer
// that other sequences hold too: what Retain may have to copy.
func (c *Cache) SharedBlocks(id int32, layer int) int {
	n := 0
	for _, b := range c.seq(id).layers[layer].blocks {
		if c.bp.ref[b] > 1 {
			n++
		}
	}
	return n
}

// ClearPrefixCache drops every cache entry; the blocks no sequence holds
// become free.
func (c *Cache) ClearPrefixCache() {
	for _, e := range c.bp.index {
		c.bp.drop(e)
	}
}

// chainEnd is the hash the sequence's next block continues: its last
// attached or entered block's, or the root.
func (c *Cache) chainEnd(s *seqState) BlockHash {
	if k := len(s.chain); k > 0 {
		return s.chain[k-1]
	}
	return c.root
}
