package engine

import "sieve/kvcache"

// attach gives q, admitted and not yet started, the longest cached prefix
// of its tokens (kvcache.Cache.Attach), extending what it attached on
// earlier steps, and restarts its KV scoring after it. It leaves at least
// the last token to compute, since its logits are needed. A sparse
// sequence takes no more than its layers' caps leave room for with its
// next chunk (sparsity.Bounds.Peak), so that it never holds more than
// admission and Submit count on (a whole cached prompt under snapkv,
// about its budget otherwise); a snapkv sequence no more than the prompt
// before its observation window, whose queries its scores come from. The
// layers that accumulate scores take copies of their own. attach reports
// false when q's next block is being computed by another sequence in this
// step: q then waits a step and attaches that block instead of computing
// it again, so that requests admitted together behind one prompt prefill
// it once.
func (e *Engine) attach(q *sequence) bool {
	if e.cfg.DisablePrefixCaching || len(q.tokens)-q.computed <= 1 {
		return true
	}
	p := &q.kv.plan
	limit := len(q.tokens) - 1
	if p.AfterPrompt && !p.Dense() {
		limit = min(limit, int(p.ScoresFrom(q.nPrompt)))
	}
	for l, lb := range p.Layers {
		if !lb.Dense {
			limit = min(limit, q.kv.bounds.Peak[l]-e.cfg.PrefillChunk)
		}
	}
	if n := e.cache.Attach(q.cacheSeq, q.tokens, limit, q.kv.scored); n != q.computed {
		q.computed = n
		e.startKV(q)
	}
	s := &e.sched
	bs := e.cfg.BlockSize
	if end := q.computed + bs; end <= limit {
		s.hashes = e.cache.PendingHashes(q.cacheSeq, q.tokens[:end], s.hashes[:0])
		if len(s.hashes) == 1 && s.inflight[s.hashes[0]] {
			return false
		}
	}
	return true
}

// start records that q feeds n tokens this step: on its first chunk ever
// it counts its prefix cache lookup, and the full blocks a prefill chunk
// completes are marked as in flight for attach.
func (e *Engine) start(q *sequence, n int) {
	if !q.started {
		q.started = true
		if !q.admitted && !e.cfg.DisablePrefixCaching {
			q.admitted = true
			q.cached = min(q.computed, q.nPrompt)
			e.prefixQueries.Add(int64(q.nPrompt))
			e.prefixHits.Add(int64(q.cached))
		}
	}
	if e.cfg.DisablePrefixCaching || q.kv.compacted || n <= 1 {
		return
	}
	s := &e.sched
	if s.inflight == nil {
		s.inflight = make(map[kvcache.BlockHash]bool)
	}
	s.hashes = e.cache.PendingHashes(q.cacheSeq, q.tokens[:q.computed+n], s.hashes[:0])
	for _, h := range s.hashes {
		s.inflight[h] = true
	}
}

// register enters q's newly completed full blocks into the prefix cache,
// unless caching is off or q has been compacted (its blocks then differ
// from what a dense run computes).
func (e *Engine) register(q *sequence) {
	if e.cfg.DisablePrefixCaching || q.kv.compacted || q.cacheSeq < 0 {
		return
	}
	e.cache.Register(q.cacheSeq, q.tokens[:q.computed])
}

// makeCopyRoom makes sure the pool can supply a copy of every shared
// block q's eviction may rewrite this step, preempting the newest running
// sequences as reserve does. It reports false when q itself was
// preempted.
func (e *Engine) makeCopyRoom(q *sequence) bool {
	if e.cfg.DisablePrefixCaching {
		return true
	}
	s := &e.sched
	for e.copyNeed(q) > e.cache.FreeBlocks() {
		victim := s.running[len(s.running)-1]
		e.preempt(victim)
		if victim == q {
			return false
		}
	}
	return true
}

// copyNeed is the number of shared blocks in q's layers that are due for
// compaction after this step (kvcache.Cache.SharedBlocks).
func (e *Engine) copyNeed(q *sequence) int {
	p := &q.kv.plan
	first := p.AfterPrompt && !q.kv.progress.Compressed && q.computed >= q.nPrompt
	need := 0
	for l, lb := range p.Layers {
		if !lb.Dense && (first || p.Evict(l, e.cache.Len(q.cacheSeq, l))) {
			need += e.cache.SharedBlocks(q.cacheSeq, l)
		}
	}
	return need
}
