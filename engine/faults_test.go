package engine

import (
	"context"
	"errors"
	"sync"
	"testing"

	"sieve/kvcache"
	"sieve/llama"
)

// forwardRecord is what the scheduler held just before one forward pass.
type forwardRecord struct {
	steps      int64 // forward passes completed before this one
	victimHeld int   // blocks held by the cancelled request (-1: not running)
	otherHeld  int   // blocks held by the request that keeps going
	poolUsed   int   // blocks held in the whole pool
}

// seqBlocks counts the blocks the running request with id holds, or -1
// when no running request has that id. Called on the scheduler goroutine.
func seqBlocks(e *Engine, id string) int {
	for _, q := range e.sched.running {
		if q.req.ID != id || q.cacheSeq < 0 {
			continue
		}
		n := 0
		for l := range e.m.Config.Layers {
			n += e.cache.LayerBlocks(q.cacheSeq, l)
		}
		return n
	}
	return -1
}

// TestCancelFreesBlocksWithinOneStep cancels a request mid-stream (what a
// client disconnecting does through the server) while another request
// keeps the engine stepping, and checks that at most one forward pass
// completes between the cancellation and its blocks returning to the pool.
func TestCancelFreesBlocksWithinOneStep(t *testing.T) {
	m := tinyModel(t, tinyConfig, 21)
	e := newEngine(t, m, nil, Config{Threads: 1, MaxBatchTokens: 64, MaxSeqs: 4, PrefillChunk: 16})
	var mu sync.Mutex
	var log []forwardRecord
	e.beforeForward = func(*llama.Batch) { // set before the first Submit: no race
		r := forwardRecord{steps: e.steps.Load(), victimHeld: seqBlocks(e, "victim"), otherHeld: seqBlocks(e, "other"),
			poolUsed: e.cache.Blocks() - e.cache.FreeBlocks()}
		mu.Lock()
		log = append(log, r)
		mu.Unlock()
	}
	prompt := make([]int32, 40)
	for i := range prompt {
		prompt[i] = int32(1 + i%100)
	}
	other := submit(t, e, context.Background(), Request{ID: "other", Prompt: prompt, MaxTokens: 400, IgnoreEOS: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	victim := submit(t, e, ctx, Request{ID: "victim", Prompt: prompt, MaxTokens: 400, IgnoreEOS: true})
	got := 0
	for ev := range victim {
		got += len(ev.Tokens)
		if got >= 5 {
			break
		}
	}
	cancel()
	cancelledAt := e.steps.Load() // read after cancel: at least the passes done before it
	var last Event
	for ev := range victim {
		last = ev
	}
	if last.Finish != FinishCancelled {
		t.Fatalf("cancelled request finished %q", last.Finish)
	}
	if r := collect(t, other); r.last.Finish != FinishLength || len(r.tokens) != 400 {
		t.Fatalf("other request: %q after %d tokens", r.last.Finish, len(r.tokens))
	}

	mu.Lock()
	defer mu.Unlock()
	held := false
	for _, r := range log {
		if r.steps < cancelledAt {
			held = held || r.victimHeld > 0
			continue
		}
		if r.victimHeld < 0 {
			if r.steps > cancelledAt+1 {
				t.Errorf("blocks freed before pass %d, %d passes after the cancel", r.steps, r.steps-cancelledAt)
			}
			if r.poolUsed != r.otherHeld {
				t.Errorf("after the cancel the pool holds %d blocks, the running request %d", r.poolUsed, r.otherHeld)
			}
			if !held {
				t.Error("the cancelled request never held blocks before the cancel")
			}
			return
		}
	}
	t.Fatalf("the cancelled request still held blocks at every later pass (cancelled after pass %d)", cancelledAt)
}

// panicOnce panics in the pool's worker ranges the first time it runs.
type panicOnce struct{ once *sync.Once }

func (p panicOnce) Range(_, lo, hi int) {
	if lo > 0 { // not the caller's first range: another worker's, when there are several
		p.once.Do(func() { panic("injected in a worker") })
	}
}

// workerPanicAttention runs a panicking pool job before the first attention
// call, then attends with the cache.
type workerPanicAttention struct {
	e    *Engine
	once sync.Once
}

func (a *workerPanicAttention) Attend(layer int, b *llama.Batch, q, k, v, out []float32) {
	a.e.pool.Run(256, panicOnce{&a.once})
	a.e.cache.Attend(layer, b, q, k, v, out)
}

func TestWorkerPanicFailsBatchAndKeepsServing(t *testing.T) {
	m := tinyModel(t, tinyConfig, 22)
	e := newEngine(t, m, nil, Config{Threads: 2, MaxBatchTokens: 64, MaxSeqs: 4})
	e.attn = &workerPanicAttention{e: e} // set before any request: no race
	res := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 2, 3}, MaxTokens: 5}))
	if res.last.Finish != FinishError || res.last.Err == nil {
		t.Fatalf("panicking worker: finish %q err %v", res.last.Finish, res.last.Err)
	}
	res = collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 2, 3}, MaxTokens: 5}))
	if res.last.Finish != FinishLength || len(res.tokens) != 5 {
		t.Fatalf("after the panic: finish %q, %d tokens", res.last.Finish, len(res.tokens))
	}
	waitIdle(t, e)
}

func TestKVPoolLargerThanMemoryIsRefused(t *testing.T) {
	avail, err := kvcache.MemAvailable()
	if err != nil {
		t.Skipf("available memory unknown here: %v", err)
	}
	m := tinyModel(t, tinyConfig, 23)
	mib := int(avail>>20) + 1<<20 // a TiB more than there is
	_, err = New(m, nil, Config{Threads: 1, KVCacheMiB: mib}, nil)
	if !errors.Is(err, ErrKVTooLarge) {
		t.Fatalf("New with a %d MiB pool: %v, want ErrKVTooLarge", mib, err)
	}
}
