package kvcache

import (
	"sync/atomic"

	"sieve/kernels"
)

// blockPool owns the storage of every block and its ownership: how many
// sequence tables hold it, whether the prefix cache holds it, and the free
// list. A block is in one of three states: held (ref > 0, perhaps cached
// too), cached and unreferenced (in the LRU list, reclaimable by alloc), or
// free. Only the counters are safe to read concurrently.
type blockPool struct {
	bs, kvHeads, hd int
	elems           int // key+value values per block

	// Storage, blocks back to back, in one of three forms: f32 or f16 when
	// keys and values are both F32 or both F16, else raw, where each slot's
	// key (value) for one KV head is one row of kt (vt), kRow (vRow) bytes:
	// a quantized row carries its own scales, so a slot moves as bytes.
	kt, vt     kernels.DType
	kRow, vRow int // bytes of one slot's key (value) row in raw
	rawBlock   int // bytes of one block in raw
	f32        []float32
	f16        []uint16
	raw        []byte
	rotK       bool      // keys are stored rotated (see rotate.go)
	rotBuf     []float32 // one head's key being rotated by write

	pos []int32   // slot positions, bs per block
	scr []float32 // slot scores, bs per block

	free  []int32  // stack of free block ids: no reference, no cache entry
	ref   []int32  // per block: the sequence tables holding it
	layer []int32  // layer a used block belongs to
	entry []*entry // per block: the prefix cache entry holding it, or nil
	lru   lruList  // cached blocks no table holds, least recently released first
	index map[BlockHash]*entry

	used      atomic.Int64 // blocks with ref > 0
	cached    atomic.Int64 // blocks in cache entries
	idle      atomic.Int64 // cached blocks with ref == 0
	layerUsed []atomic.Int64
}

// newBlockPool allocates n blocks with keys stored as kt and values as vt.
func newBlockPool(n, bs, kvHeads, hd, layers int, kt, vt kernels.DType) *blockPool {
	p := &blockPool{bs: bs, kvHeads: kvHeads, hd: hd, elems: 2 * kvHeads * bs * hd, kt: kt, vt: vt}
	switch {
	case kt == kernels.F16 && vt == kernels.F16:
		p.f16 = make([]uint16, n*p.elems)
	case kt == kernels.F32 && vt == kernels.F32:
		p.f32 = make([]float32, n*p.elems)
	default:
		p.kRow, p.vRow = kernels.KVRowBytes(kt, hd), kernels.KVRowBytes(vt, hd)
		p.rawBlock = kvHeads * bs * (p.kRow + p.vRow)
		p.raw = make([]byte, n*p.rawBlock)
		p.rotK = rotates(!kt.Float(), hd)
		p.rotBuf = make([]float32, hd)
	}
	p.pos = make([]int32, n*bs)
	p.scr = make([]float32, n*bs)
	p.free = make([]int32, n)
	for i := range p.free {
		p.free[i] = int32(n - 1 - i) // block 0 is taken first
	}
	p.ref = make([]int32, n)
	p.layer = make([]int32, n)
	p.entry = make([]*entry, n)
	p.lru = newLRUList(n)
	p.index = make(map[BlockHash]*entry)
	p.layerUsed = make([]atomic.Int64, layers)
	return p
}

// total is the number of blocks.
func (p *blockPool) total() int { return len(p.ref) }

// nfree is the number of blocks alloc can hand out: the free ones and the
// cached ones no table holds.
func (p *blockPool) nfree() int { return len(p.free) + p.lru.n }

// alloc takes a block for layer with one reference: a free one, else the
// least recently released cached one, whose entry it drops from the
// cache. The caller has checked nfree.
func (p *blockPool) alloc(layer int) int32 {
	if len(p.free) == 0 {
		p.drop(p.entry[p.lru.oldest()])
	}
	b := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	p.ref[b] = 1
	p.layer[b] = int32(layer)
	p.used.Add(1)
	p.layerUsed[layer].Add(1)
	return b
}

// share adds a reference to b, a held block or a cached one.
func (p *blockPool) share(b int32) {
	if p.ref[b] == 0 {
		if p.entry[b] == nil {
			panic("kvcache: share of a free block")
		}
		p.lru.remove(b)
		p.idle.Add(-1)
		p.used.Add(1)
		p.layerUsed[p.layer[b]].Add(1)
	}
	p.ref[b]++
}

// release drops a reference to b. A block no table holds any more goes to
// the newest end of the LRU list when the cache holds it, else to the
// free list.
func (p *blockPool) release(b int32) {
	if p.ref[b] <= 0 {
		panic("kvcache: release of a free block")
	}
	p.ref[b]--
	if p.ref[b] > 0 {
		return
	}
	p.used.Add(-1)
	p.layerUsed[p.layer[b]].Add(-1)
	if p.entry[b] != nil {
		p.lru.push(b)
		p.idle.Add(1)
		return
	}
	p.free = append(p.free, b)
}

// keyOff is the index of the key of (block b, KV head kh, slot o) in storage;
// valOff likewise for the value.
func (p *blockPool) keyOff(b int32, kh, o int) int {
	return int(b)*p.elems + (kh*p.bs+o)*p.hd
}

func (p *blockPool) valOff(b int32, kh, o int) int {
	return int(b)*p.elems + ((p.kvHeads+kh)*p.bs+o)*p.hd
}

// keyByte is the offset in raw of the key row of (block b, KV head kh,
// slot o); valByte likewise for the value row. A block holds every key
// row, head after head, then every value row.
func (p *blockPool) keyByte(b int32, kh, o int) int {
	return int(b)*p.rawBlock + (kh*p.bs+o)*p.kRow
}

func (p *blockPool) valByte(b int32, kh, o int) int {
	return int(b)*p.rawBlock + p.kvHeads*p.bs*p.kRow + (kh*p.bs+o)*p.vRow
}

// write stores one token's keys and values (kvHeads×hd each) in slot o of b.
func (p *blockPool) write(b int32, o int, pos int32, k, v []float32) {
	hd := p.hd
	for kh := 0; kh < p.kvHeads; kh++ {
		ko, vo := p.keyOff(b, kh, o), p.valOff(b, kh, o)
		ks, vs := k[kh*hd:(kh+1)*hd], v[kh*hd:(kh+1)*hd]
		if p.raw != nil {
			ko, vo = p.keyByte(b, kh, o), p.valByte(b, kh, o)
			if p.rotK {
				copy(p.rotBuf, ks)
				rotateHeads(p.rotBuf, hd)
				ks = p.rotBuf
			}
			kernels.QuantizeRow(p.kt, p.raw[ko:ko+p.kRow], ks)
			kernels.QuantizeRow(p.vt, p.raw[vo:vo+p.vRow], vs)
		} else if p.f16 != nil {
			toF16(p.f16[ko:ko+hd], ks)
			toF16(p.f16[vo:vo+hd], vs)
		} else {
			copy(p.f32[ko:ko+hd], ks)
			copy(p.f32[vo:vo+hd], vs)
		}
	}
	p.pos[int(b)*p.bs+o] = pos
	p.scr[int(b)*p.bs+o] = 0
}

// moveSlot copies slot so of block sb into slot do of block db: its keys
// and values (quantized rows with their scales) and its metadata.
func (p *blockPool) moveSlot(db int32, do int, sb int32, so int) {
	hd := p.hd
	for kh := 0; kh < p.kvHeads; kh++ {
		dk, sk := p.keyOff(db, kh, do), p.keyOff(sb, kh, so)
		dv, sv := p.valOff(db, kh, do), p.valOff(sb, kh, so)
		if p.raw != nil {
			dk, sk = p.keyByte(db, kh, do), p.keyByte(sb, kh, so)
			dv, sv = p.valByte(db, kh, do), p.valByte(sb, kh, so)
			copy(p.raw[dk:dk+p.kRow], p.raw[sk:sk+p.kRow])
			copy(p.raw[dv:dv+p.vRow], p.raw[sv:sv+p.vRow])
		} else if p.f16 != nil {
			copy(p.f16[dk:dk+hd], p.f16[sk:sk+hd])
			copy(p.f16[dv:dv+hd], p.f16[sv:sv+hd])
		} else {
			copy(p.f32[dk:dk+hd], p.f32[sk:sk+hd])
			copy(p.f32[dv:dv+hd], p.f32[sv:sv+hd])
		}
	}
	p.pos[int(db)*p.bs+do] = p.pos[int(sb)*p.bs+so]
	p.scr[int(db)*p.bs+do] = p.scr[int(sb)*p.bs+so]
}

// toF16 converts src into half precision in dst.
func toF16(dst []uint16, src []float32) {
	for i, v := range src {
		dst[i] = kernels.F32ToF16(v)
	}
}
