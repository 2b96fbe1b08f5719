package kvcache

import (
	"fmt"

	"sieve/kernels"
	"sieve/llama"
)

// attention is the state of one Attend call, shared by the pool workers.
type attention struct {
	c     *Cache
	layer int
	b     *llama.Batch
	q     []float32
	out   []float32
	slot  []int32     // per batch token: its slot in its (sequence, layer)
	tabs  []*table    // per batch token: its (sequence, layer) table
	items []item      // the units of work
	runs  []scoredRun // runs whose weights go into slot scores
	parts []float32   // partial score sums, one region per accumulating item
	acc   []float32   // reduction buffer
}

// Attend implements llama.Attention. It appends each token's keys and
// values to its sequence's slots in layer (space must have been reserved
// with Reserve), then computes every token's attention over the slots of
// its sequence up to and including its own. Work is split over (token, KV
// head) pairs on the pool; each query head is one online-softmax pass over
// the slots in order, with the same operations as llama.DenseCache, so F32
// storage gives the same bits. Positions within a (sequence, layer) must
// increase; Attend panics on a broken invariant.
//
// Tokens that score (see SetAccumulate) record each slot's
// softmax term during that same pass, and turn them into attention weights
// with the head's final max and sum once the pass is over; the output is
// computed exactly as without scoring.
func (c *Cache) Attend(layer int, b *llama.Batch, q, k, v, out []float32) {
	n := b.Len()
	a := &c.att
	if cap(a.slot) < n {
		a.slot = make([]int32, n)
		a.tabs = make([]*table, n)
	}
	a.slot, a.tabs = a.slot[:n], a.tabs[:n]
	kvDim := c.cfg.KVDim()
	bs := c.opt.BlockSize
	for i := 0; i < n; i++ {
		t := &c.seq(b.Seq[i]).layers[layer]
		if t.n >= len(t.blocks)*bs {
			panic(fmt.Sprintf("kvcache: sequence %d layer %d: no reserved slot", b.Seq[i], layer))
		}
		blk := t.blocks[t.n/bs]
		if t.n > 0 {
			prev := t.blocks[(t.n-1)/bs]
			if last := c.bp.pos[int(prev)*bs+(t.n-1)%bs]; b.Pos[i] <= last {
				panic(fmt.Sprintf("kvcache: sequence %d layer %d: position %d after %d", b.Seq[i], layer, b.Pos[i], last))
			}
		}
		c.bp.write(blk, t.n%bs, b.Pos[i], k[i*kvDim:(i+1)*kvDim], v[i*kvDim:(i+1)*kvDim])
		a.slot[i] = int32(t.n)
		a.tabs[i] = t
		t.n++
	}
	a.layer, a.b, a.q, a.out = layer, b, q, out
	a.plan()
	c.pool.Run(len(a.items), a)
	a.reduce()
	a.b, a.q, a.out = nil, nil, nil
}

// Range implements kernels.Task: it runs the work items lo..hi with
// worker wid's buffers.
func (a *attention) Range(wid, lo, hi int) {
	group := a.c.cfg.Heads / a.c.cfg.KVHeads
	w := &a.c.scratch.sets[wid]
	for _, it := range a.items[lo:hi] {
		kh := int(it.kh)
		if it.part < 0 { // unscored tokens of one sequence
			a.attend(int(it.lo), int(it.hi), kh, w, nil)
			continue
		}
		part := a.parts[it.part : it.part+it.plen]
		for i := int(it.lo); i < int(it.hi); i++ {
			n := int(a.slot[i]) + 1
			raw := w.rawBuf(group * (n + max(a.c.bp.bs, chunk)))
			a.attend(i, i+1, kh, w, raw)
			kernels.Add(part[:n], raw[:n])
		}
	}
}

// attend computes the attention of batch tokens lo..hi, consecutive
// tokens of one sequence, for KV head kh (each token's group of query
// heads) with the fused kernel: one online-softmax pass over the visible
// slots in order (see feed), shared by all the tokens' heads, each head
// stopping at its own token's last slot, so every output has the bits of
// a pass of its own. With raw (one token only; group×(n+max(bs, chunk))
// values for its n visible slots) it also leaves in raw[:n] the token's
// attention weights for the head, averaged over the group; the output is
// the same either way.
func (a *attention) attend(lo, hi, kh int, w *work, raw []float32) {
	c := a.c
	heads, hd := c.cfg.Heads, c.cfg.HeadDim
	group := heads / c.cfg.KVHeads
	m := (hi - lo) * group
	h0 := lo*heads + kh*group
	qs, out := a.q[h0*hd:(h0+group)*hd], a.out[h0*hd:(h0+group)*hd]
	if hi-lo > 1 || c.bp.rotK { // gather the queries; the outputs are scattered below
		for i := lo; i < hi; i++ {
			h0, r := i*heads+kh*group, (i-lo)*group
			copy(w.q[r*hd:(r+group)*hd], a.q[h0*hd:(h0+group)*hd])
		}
		qs = w.q[:m*hd]
		if c.bp.rotK {
			rotateHeads(qs, hd)
		}
	}
	if hi-lo > 1 {
		out = w.out[:m*hd]
	}
	for i := lo; i < hi; i++ {
		for g := range group {
			w.lim[(i-lo)*group+g] = int(a.slot[i]) + 1
		}
	}
	n := int(a.slot[hi-1]) + 1
	st := w.st
	st.ResetLimited(w.lim[:m])
	a.feed(st, a.tabs[lo], kh, n, qs, w, raw)
	st.Finish(out)
	if hi-lo > 1 {
		for i := lo; i < hi; i++ {
			h0, r := i*heads+kh*group, (i-lo)*group
			copy(a.out[h0*hd:(h0+group)*hd], w.out[r*hd:(r+group)*hd])
		}
	}
	if raw != nil {
		st.NormalizeScores(raw[:group*n], n)
		meanGroup(raw, n, group)
	}
}

// feed runs the first n slots of table t, KV head kh, through st with
// query heads qs, in runs of whole chunks (the blocks themselves when the
// block size is a multiple of chunk, else chunks staged across block
// boundaries), so the bits do not depend on the block size. With raw, the
// raw scores of the pass's heads go to raw[g*n+p] (see attend).
func (a *attention) feed(st *kernels.AttnState, t *table, kh, n int, qs []float32, w *work, raw []float32) {
	c := a.c
	bp := c.bp
	hd, bs := c.cfg.HeadDim, bp.bs
	group := len(qs) / hd
	// Raw scores of a call go to tmp (group×cnt), then into raw[g*n+p].
	var tmp []float32
	if raw != nil {
		tmp = raw[group*n:]
	}
	call := func(p0, cnt int, r *run) {
		var sc []float32
		if raw != nil {
			if group == 1 {
				sc = raw[p0 : p0+cnt]
			} else {
				sc = tmp[:group*cnt]
			}
		}
		switch {
		case r.kb != nil:
			st.AttendQuant(qs, r.kb, bp.kt, r.vb, bp.vt, bp.kRow, bp.vRow, cnt, c.scale, sc)
		case r.k16 != nil:
			st.AttendF16(qs, r.k16, r.v16, hd, cnt, c.scale, sc)
		default:
			st.AttendF32(qs, r.k32, r.v32, hd, cnt, c.scale, sc)
		}
		if raw != nil && group > 1 {
			for g := range group {
				copy(raw[g*n+p0:g*n+p0+cnt], sc[g*cnt:(g+1)*cnt])
			}
		}
	}
	var r run
	if bs%chunk == 0 {
		for p0 := 0; p0 < n; p0 += bs {
			cnt := min(bs, n-p0)
			blk := t.blocks[p0/bs]
			switch {
			case bp.raw != nil:
				ko, vo := bp.keyByte(blk, kh, 0), bp.valByte(blk, kh, 0)
				r.kb, r.vb = bp.raw[ko:ko+cnt*bp.kRow], bp.raw[vo:vo+cnt*bp.vRow]
			case bp.f16 != nil:
				ko, vo, m := bp.keyOff(blk, kh, 0), bp.valOff(blk, kh, 0), cnt*hd
				r.k16, r.v16 = bp.f16[ko:ko+m], bp.f16[vo:vo+m]
			default:
				ko, vo, m := bp.keyOff(blk, kh, 0), bp.valOff(blk, kh, 0), cnt*hd
				r.k32, r.v32 = bp.f32[ko:ko+m], bp.f32[vo:vo+m]
			}
			call(p0, cnt, &r)
		}
		return
	}
	for p0 := 0; p0 < n; p0 += chunk {
		cnt := min(chunk, n-p0)
		for o := range cnt {
			blk, so := t.blocks[(p0+o)/bs], (p0+o)%bs
			bp.stageSlot(w, o, blk, kh, so)
		}
		m := cnt * hd
		switch {
		case bp.raw != nil:
			kr, vr := bp.kRow, bp.vRow
			r.kb, r.vb = w.stRaw[:cnt*kr], w.stRaw[chunk*kr:chunk*kr+cnt*vr]
		case bp.f16 != nil:
			r.k16, r.v16 = w.st16[:m], w.st16[chunk*hd:chunk*hd+m]
		default:
			r.k32, r.v32 = w.stage[:m], w.stage[chunk*hd:chunk*hd+m]
		}
		call(p0, cnt, &r)
	}
}

// run is one run of key and value rows in the pool's storage form.
type run struct {
	k32, v32 []float32
	k16, v16 []uint16
	kb, vb   []byte
}

// stageSlot copies the key and value of slot so of block blk, KV head kh,
// into row o of w's staging buffer for a chunk.
func (p *blockPool) stageSlot(w *work, o int, blk int32, kh, so int) {
	hd := p.hd
	switch {
	case p.raw != nil:
		ko, vo := p.keyByte(blk, kh, so), p.valByte(blk, kh, so)
		copy(w.stRaw[o*p.kRow:(o+1)*p.kRow], p.raw[ko:ko+p.kRow])
		copy(w.stRaw[chunk*p.kRow+o*p.vRow:chunk*p.kRow+(o+1)*p.vRow], p.raw[vo:vo+p.vRow])
	case p.f16 != nil:
		ko, vo := p.keyOff(blk, kh, so), p.valOff(blk, kh, so)
		copy(w.st16[o*hd:(o+1)*hd], p.f16[ko:ko+hd])
		copy(w.st16[(chunk+o)*hd:(chunk+o+1)*hd], p.f16[vo:vo+hd])
	default:
		ko, vo := p.keyOff(blk, kh, so), p.valOff(blk, kh, so)
		copy(w.stage[o*hd:(o+1)*hd], p.f32[ko:ko+hd])
		copy(w.stage[(chunk+o)*hd:(chunk+o+1)*hd], p.f32[vo:vo+hd])
	}
}

// meanGroup leaves in raw[:n] the mean of the group's weights, raw[g*n:]
// for each head g.
func meanGroup(raw []float32, n, group int) {
	w := raw[:n]
	for g := 1; g < group; g++ {
		kernels.Add(w, raw[g*n:(g+1)*n])
	}
	if group > 1 {
		inv := 1 / float32(group)
		for p := range w {
			w[p] *= inv
		}
	}
}
