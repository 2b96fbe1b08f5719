package engine

import (
	"fmt"

	"sieve/sparsity"
)

// kvState is a sequence's KV sparsity: its plan, bound at Submit, and
// what eviction has done since the sequence was last (re)started.
type kvState struct {
	plan     sparsity.Plan
	progress sparsity.Progress // where eviction stands since the last (re)start
	bounds   sparsity.Bounds   // per layer: the most slots it ever holds, and while decoding
	evicted  int               // slots evicted, summed over layers
	kept     int               // slots held, summed over layers, when last counted
	// scored is, per layer, whether the layer accumulates slot scores (and
	// so takes private copies of cached blocks); nil when none does.
	scored []bool
	// compacted is set once a layer has been compacted since the last
	// (re)start: the sequence's blocks then no longer hold what a dense
	// run computes, and it enters no more into the prefix cache.
	compacted bool
}

// bindPlan resolves r's KV policy against the engine's default and binds
// it to the model and the request's total of prompt plus generated tokens.
func (e *Engine) bindPlan(r Request, total int) (kvState, error) {
	spec, err := e.cfg.KV.Override(r.KVPolicy, r.KVBudget)
	if err == nil {
		spec, err = spec.WithSinkTokens(r.KVSinkTokens)
	}
	if err != nil {
		return kvState{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := spec.CheckFloor(total); err != nil {
		return kvState{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	p, err := spec.Plan(e.m.Config.Layers, total, e.cfg.BlockSize)
	if err != nil {
		return kvState{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	kv := kvState{plan: p, bounds: p.Bounds(len(r.Prompt), total, e.cfg.PrefillChunk)}
	for l, lb := range p.Layers {
		if !lb.Dense && lb.Heavy > 0 { // the layer ranks its slots by score
			if kv.scored == nil {
				kv.scored = make([]bool, len(p.Layers))
			}
			kv.scored[l] = true
		}
	}
	return kv, nil
}

// capBlocks is the number of blocks a sequence holding tokens tokens
// needs at most, under its layers' caps.
func (e *Engine) capBlocks(kv *kvState, tokens int) int {
	bs := e.cfg.BlockSize
	n := 0
	for _, c := range kv.bounds.Peak {
		n += (min(tokens, c) + bs - 1) / bs
	}
	return n
}

// admitBlocks is the number of blocks admission sets aside for a sequence
// of tokens tokens: its prefill under the layers' caps, and in each sparse
// layer at least what the layer holds while decoding (budget + one block),
// since that is bounded and soon reached. Dense layers grow as they
// decode; preemption handles that.
func (e *Engine) admitBlocks(kv *kvState, tokens int) int {
	bs := e.cfg.BlockSize
	n := 0
	for l, c := range kv.bounds.Peak {
		n += (max(min(tokens, c), kv.bounds.Steady[l]) + bs - 1) / bs
	}
	return n
}

// blocksAhead is the number of blocks running sequence q may still take
// before admission should count on them: per layer, what holding
// min(held + rest, cap) slots (rest: its tokens not yet cached, 1 when
// decoding) needs, or a sparse layer's decoding size when larger, beyond
// the blocks the layer has.
func (e *Engine) blocksAhead(q *sequence, rest int) int {
	bs := e.cfg.BlockSize
	n := 0
	for l, c := range q.kv.bounds.Peak {
		held := e.cache.Len(q.cacheSeq, l)
		want := (max(min(held+rest, c), q.kv.bounds.Steady[l]) + bs - 1) / bs
		n += max(0, want-e.cache.LayerBlocks(q.cacheSeq, l))
	}
	return n
}

// startKV sets up a newly admitted sequence's scoring
// (sparsity.Evictor.StartAt) after its first q.computed tokens came from
// the prefix cache.
func (e *Engine) startKV(q *sequence) {
	q.kv.evicted, q.kv.kept, q.kv.compacted = 0, 0, false
	q.kv.progress = e.sched.evictor.StartAt(e.cache.Slots(q.cacheSeq), &q.kv.plan, q.nPrompt, q.computed)
}

// countKept records the slots q holds, summed over layers, in its usage.
func (e *Engine) countKept(q *sequence) {
	q.kv.kept = 0
	if q.cacheSeq < 0 {
		return
	}
	for l := range q.kv.bounds.Peak {
		q.kv.kept += e.cache.Len(q.cacheSeq, l)
	}
}

// evict applies, after a forward pass, the plans of the batch's sparse
// sequences (sparsity.Evictor.Step) and counts the slots and blocks freed.
func (e *Engine) evict() {
	s := &e.sched
	for _, w := range s.work {
		q := w.q
		if q.done || q.cacheSeq < 0 || q.kv.plan.Dense() {
			continue
		}
		s.cur = q
		if !e.makeCopyRoom(q) {
			continue // q was preempted
		}
		before := e.heldBlocks(q)
		dropped, compacted := s.evictor.Step(e.cache.Slots(q.cacheSeq), &q.kv.plan, &q.kv.progress, q.computed, q.nPrompt, q.tokens)
		if compacted == 0 {
			continue
		}
		q.kv.compacted = true
		q.kv.evicted += dropped
		e.evictions.Add(int64(compacted))
		e.evictedTokens.Add(int64(dropped))
		e.blocksFreed.Add(int64(before - e.heldBlocks(q)))
	}
	s.cur = nil
}

// heldBlocks is the number of blocks q's tables hold, summed over layers.
func (e *Engine) heldBlocks(q *sequence) int {
	n := 0
	for l := range q.kv.bounds.Peak {
		n += e.cache.LayerBlocks(q.cacheSeq, l)
	}
	return n
}
