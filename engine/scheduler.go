package engine

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"sieve/kvcache"
	"sieve/llama"
	"sieve/sparsity"
)

// scheduler is the state the scheduler goroutine owns.
type scheduler struct {
	waitq   []*sequence // admission order: the front is next
	running []*sequence // by arrival, oldest first
	batch   llama.Batch
	work    []work    // the sequences of the current batch
	decodes int       // decode tokens in the current batch
	cur     *sequence // the sequence the step is working on, for panics
	evictor sparsity.Evictor
	// inflight holds the hashes of the full blocks this step's prefill
	// chunks compute, which the prefix cache will hold after it.
	inflight map[kvcache.BlockHash]bool
	hashes   []kvcache.BlockHash
}

// work is one sequence's part of the current batch.
type work struct {
	q   *sequence
	n   int // tokens fed
	row int // logits row, or -1
}

// loop is the scheduler goroutine: it takes new requests and runs steps
// until the engine is closed and nothing is left.
func (e *Engine) loop() {
	defer close(e.done)
	s := &e.sched
	for {
		e.mu.Lock()
		s.waitq = append(s.waitq, e.incoming...)
		clear(e.incoming)
		e.incoming = e.incoming[:0]
		closed, abort := e.closed, e.abort
		e.mu.Unlock()
		if abort {
			e.cancelAll()
			e.publish()
		}
		if len(s.running) == 0 && len(s.waitq) == 0 {
			if closed {
				return
			}
			<-e.wake
			continue
		}
		e.step()
		e.publish()
	}
}

// publish makes the queue lengths visible to Stats and Submit.
func (e *Engine) publish() {
	s := &e.sched
	e.mu.Lock()
	e.running = len(s.running)
	e.waiting = len(e.incoming) + len(s.waitq)
	e.mu.Unlock()
}

// cancelAll ends every request with FinishCancelled (Close ran out of time).
func (e *Engine) cancelAll() {
	s := &e.sched
	for _, q := range s.running {
		e.end(q, FinishCancelled, nil)
	}
	for _, q := range s.waitq {
		e.end(q, FinishCancelled, nil)
	}
	s.running, s.waitq = s.running[:0], s.waitq[:0]
}

// step runs one scheduling round: drop cancelled requests, admit waiting
// ones, form the batch, run the forward pass and hand out the tokens. A
// panic inside (a bug) fails the sequences of the batch, not the process.
func (e *Engine) step() {
	s := &e.sched
	s.work, s.cur, s.decodes = s.work[:0], nil, 0
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("engine step panicked", "panic", r, "stack", string(debug.Stack()))
			e.failWork(fmt.Errorf("engine: internal error: %v", r))
		}
	}()
	e.reap()
	e.admit()
	e.publish()
	e.form()
	if s.batch.Len() == 0 {
		return
	}
	if used := int64(e.cache.Blocks() - e.cache.FreeBlocks()); used > e.peakBlocks.Load() {
		e.peakBlocks.Store(used)
	}
	if e.beforeForward != nil {
		e.beforeForward(&s.batch)
	}
	var att llama.Attention = e.cache
	if e.attn != nil {
		att = e.attn
	}
	logits, err := e.runner.Forward(&s.batch, att)
	if err != nil {
		e.failWork(fmt.Errorf("engine: forward: %w", err))
		return
	}
	e.steps.Add(1)
	if s.decodes > 0 {
		e.decodeSteps.Add(1)
		e.decodeTokens.Add(int64(s.decodes))
	}
	e.emit(logits)
	e.sweep() // evict may preempt, which takes the newest sequence still running
	e.evict()
	e.sweep()
	if e.afterStep != nil {
		e.afterStep()
	}
}

// failWork ends the sequences of the current batch, and the one the step
// was working on, with FinishError.
func (e *Engine) failWork(err error) {
	s := &e.sched
	for _, w := range s.work {
		e.safeEnd(w.q, err)
	}
	if s.cur != nil {
		e.safeEnd(s.cur, err)
	}
	s.work, s.cur = s.work[:0], nil
	e.sweep()
}

// safeEnd ends q with FinishError, surviving a cache left inconsistent.
func (e *Engine) safeEnd(q *sequence, err error) {
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("engine: freeing a failed sequence panicked", "panic", r)
			q.cacheSeq = -1
			q.finish(FinishError, errors.Join(err, fmt.Errorf("engine: %v", r)))
		}
	}()
	e.end(q, FinishError, err)
}

// end finishes q: frees its blocks and sends its final event. The caller
// removes it from the scheduler's lists (sweep does for running).
func (e *Engine) end(q *sequence, reason FinishReason, err error) {
	if q.done {
		return
	}
	e.countKept(q)
	e.release(q)
	q.finish(reason, err)
	e.log.Debug("request finished", "id", q.req.ID, "reason", reason, "prompt_tokens", q.nPrompt, "completion_tokens", q.generated(), "err", err)
}

// release returns q's blocks to the pool.
func (e *Engine) release(q *sequence) {
	if q.cacheSeq >= 0 {
		id := q.cacheSeq
		q.cacheSeq = -1
		e.cache.Free(id)
	}
}

// sweep drops finished sequences from the running list and the queue.
func (e *Engine) sweep() {
	s := &e.sched
	done := func(q *sequence) bool { return q.done }
	s.running = slices.DeleteFunc(s.running, done)
	s.waitq = slices.DeleteFunc(s.waitq, done)
}

// reap cancels the requests whose context has ended, and retries handing
// pending output to slow readers.
func (e *Engine) reap() {
	s := &e.sched
	for _, list := range [][]*sequence{s.running, s.waitq} {
		for _, q := range list {
			s.cur = q
			if q.ctx.Err() != nil {
				e.end(q, FinishCancelled, nil)
				continue
			}
			q.flush()
		}
	}
	s.cur = nil
	e.sweep()
}
