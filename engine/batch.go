package engine

import (
	"cmp"
	"errors"
	"slices"

	"sieve/kvcache"
)

// admit moves requests from the front of the queue into the running set,
// in order, while the running set has room and the free blocks cover the
// request's whole prefill on top of what running sequences still need
// (the rest of their prefill, the next decode token) and a reserve of one
// block per layer. Needs are counted per layer (see admitBlocks and
// blocksAhead): a sparse layer under its cap, which bounds it by its
// budget plus a block and a chunk, and at least at the size it keeps while
// decoding. With nothing running the front request is admitted regardless:
// Submit checked that it fits the pool alone.
func (e *Engine) admit() {
	s := &e.sched
	free := e.cache.FreeBlocks()
	for _, q := range s.running {
		free -= e.blocksAhead(q, len(q.tokens)-q.computed)
	}
	reserve := e.m.Config.Layers
	for len(s.waitq) > 0 && len(s.running) < e.cfg.MaxSeqs {
		q := s.waitq[0]
		s.cur = q
		need := e.admitBlocks(&q.kv, len(q.tokens))
		if len(s.running) > 0 && need+reserve > free {
			break
		}
		free -= need
		s.waitq = s.waitq[1:]
		q.cacheSeq = e.cache.NewSeq()
		e.startKV(q)
		i, _ := slices.BinarySearchFunc(s.running, q.id, func(r *sequence, id uint64) int { return cmp.Compare(r.id, id) })
		s.running = slices.Insert(s.running, i, q)
	}
	s.cur = nil
}

// form builds the step's batch. Running sequences are taken oldest first:
// each decoding sequence feeds its last token, and each prefilling one
// feeds its next chunk, which ends at the next multiple of PrefillChunk
// (so chunk boundaries depend only on the sequence) and waits a step when
// it does not fit the token budget left after every decode token. A
// sequence that has not started yet first takes what the prefix cache now
// holds of its tokens (attach), or waits when another chunk of this step
// computes its next block. When the
// pool has too few free blocks for a sequence, the newest running sequence
// is preempted (possibly the sequence itself) until it fits; the oldest
// sequence always fits, so the engine never deadlocks.
func (e *Engine) form() {
	s := &e.sched
	s.batch.Reset()
	decodes := 0
	for _, q := range s.running {
		if len(q.tokens)-q.computed == 1 {
			decodes++
		}
	}
	prefill := e.cfg.MaxBatchTokens - decodes // budget for prefill chunks
	rows := 0
	clear(s.inflight)
	for i := 0; i < len(s.running); i++ {
		q := s.running[i]
		s.cur = q
		pre := len(q.tokens)-q.computed > 1 // a prefill chunk, even if attach leaves one token
		if !q.started && !e.attach(q) {
			continue // its next block is being computed this step
		}
		rest := len(q.tokens) - q.computed
		n := 1
		if pre {
			chunk := e.cfg.PrefillChunk
			n = min(rest, chunk-q.computed%chunk)
			if n > prefill {
				continue
			}
		}
		if !e.reserve(q, n, &prefill) {
			break // q was the newest and is preempted
		}
		e.start(q, n)
		if pre {
			prefill -= n
			e.prefillTokens.Add(int64(n))
		} else {
			s.decodes++
		}
		w := work{q: q, n: n, row: -1}
		for j := q.computed; j < q.computed+n; j++ {
			last := j == len(q.tokens)-1
			s.batch.Add(q.tokens[j], int32(j), q.cacheSeq, last)
			if last {
				w.row = rows
				rows++
			}
		}
		s.work = append(s.work, w)
	}
	s.cur = nil
}

// reserve takes blocks for n more tokens of q, preempting the newest
// running sequences until they fit. It reports false when q itself was
// preempted. prefill is the step's prefill budget, which a preempted
// decoding sequence gives back.
func (e *Engine) reserve(q *sequence, n int, prefill *int) bool {
	s := &e.sched
	for {
		err := e.cache.Reserve(q.cacheSeq, n)
		if err == nil {
			return true
		}
		if !errors.Is(err, kvcache.ErrNoSpace) {
			panic(err)
		}
		victim := s.running[len(s.running)-1]
		if len(victim.tokens)-victim.computed == 1 {
			*prefill++
		}
		e.preempt(victim)
		if victim == q {
			return false
		}
	}
}

// preempt frees the blocks of the newest running sequence q and puts it at
// the front of the queue, to prefill its prompt and generated tokens again.
func (e *Engine) preempt(q *sequence) {
	s := &e.sched
	e.log.Debug("preempting", "id", q.req.ID, "tokens", len(q.tokens), "computed", q.computed)
	e.release(q)
	q.kv.evicted, q.kv.kept = 0, 0
	e.preemptions.Add(1)
	e.recomputed.Add(int64(q.computed))
	q.computed, q.started = 0, false
	s.running = s.running[:len(s.running)-1]
	s.waitq = slices.Insert(s.waitq, 0, q)
}
