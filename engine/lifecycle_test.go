package engine

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"sieve/llama"
)

func TestRandomCancellationsReturnEveryBlock(t *testing.T) {
	// Wide KV rows make 1 MiB a small pool (63 blocks, 15 per layer), so
	// requests are preempted too.
	m := tinyModel(t, wideConfig, 5)
	e := newEngine(t, m, nil, Config{KVCacheMiB: 1, KVDType: "f32", MaxBatchTokens: 64, MaxSeqs: 16, PrefillChunk: 16})
	r := rand.New(rand.NewPCG(8, 9))
	const n = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	finishes := map[FinishReason]int{}
	for i := range n {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req := Request{Prompt: randomPrompt(r, 1+r.IntN(60), m.Config.VocabSize), MaxTokens: 1 + r.IntN(40)}
		delay := time.Duration(r.IntN(3000)) * time.Microsecond
		when := r.IntN(4) // 0: before Submit, 1-2: after a delay, 3: never
		if when == 0 {
			cancel()
		}
		ch, err := e.Submit(ctx, req)
		if when == 0 {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("request %d: Submit with a cancelled context: %v", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			if when < 3 {
				time.AfterFunc(delay, cancel)
			}
			res := collect(t, ch)
			mu.Lock()
			finishes[res.last.Finish]++
			mu.Unlock()
			switch res.last.Finish {
			case FinishLength:
				if len(res.tokens) != req.MaxTokens {
					t.Errorf("finished by length after %d of %d tokens", len(res.tokens), req.MaxTokens)
				}
			case FinishCancelled:
				if when == 3 {
					t.Errorf("request cancelled without its context ending")
				}
			default:
				t.Errorf("unexpected finish %q (%v)", res.last.Finish, res.last.Err)
			}
		}()
	}
	wg.Wait()
	t.Logf("finishes %v, stats %+v", finishes, e.Stats())
	if finishes[FinishCancelled] == 0 || finishes[FinishLength] == 0 || e.Stats().Preemptions == 0 {
		t.Errorf("want cancelled, completed and preempted requests: %v, %+v", finishes, e.Stats())
	}
	waitIdle(t, e)
}

// waitIdle waits until the engine has nothing running or waiting and
// checks that every block is back in the pool.
func waitIdle(t *testing.T, e *Engine) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.Stats()
		if st.Running == 0 && st.Waiting == 0 {
			if st.KVBlocksUsed != 0 || st.KVUsage != 0 {
				t.Fatalf("idle engine holds blocks: %+v", st)
			}
			for l, b := range st.KVLayerBlocks {
				if b != 0 {
					t.Fatalf("layer %d holds %d blocks", l, b)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not idle: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPreemptionCompletesEveryRequest(t *testing.T) {
	m, tok := stories(t)
	// 1 MiB of F32 holds 248 blocks of 16 tokens, under 50 per layer, while
	// 10 requests of up to 130 tokens want up to 9 each.
	e := newEngine(t, m, tok, Config{KVCacheMiB: 1, KVDType: "f32", MaxBatchTokens: 64, MaxSeqs: 10, PrefillChunk: 16})
	r := rand.New(rand.NewPCG(10, 11))
	var chans []<-chan Event
	var reqs []Request
	for range 10 {
		req := Request{Prompt: randomPrompt(r, 2+r.IntN(30), m.Config.VocabSize), MaxTokens: 100, IgnoreEOS: true}
		reqs = append(reqs, req)
		chans = append(chans, submit(t, e, context.Background(), req))
	}
	for i, ch := range chans {
		res := collect(t, ch)
		if res.last.Finish != FinishLength || len(res.tokens) != reqs[i].MaxTokens {
			t.Errorf("request %d: %q after %d tokens", i, res.last.Finish, len(res.tokens))
		}
	}
	st := e.Stats()
	if st.Preemptions == 0 || st.RecomputedTokens == 0 {
		t.Errorf("no preemption with a tiny pool: %+v", st)
	}
	waitIdle(t, e)
}

func TestPanicInStepFailsBatchAndKeepsServing(t *testing.T) {
	m := tinyModel(t, tinyConfig, 6)
	e := newEngine(t, m, nil, Config{MaxBatchTokens: 64, MaxSeqs: 4})
	var once sync.Once
	e.beforeForward = func(*llama.Batch) { // set before any request: no race
		once.Do(func() { panic("injected") })
	}
	res := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 2, 3}, MaxTokens: 5}))
	if res.last.Finish != FinishError || res.last.Err == nil {
		t.Fatalf("panicking step: finish %q err %v", res.last.Finish, res.last.Err)
	}
	res = collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 2, 3}, MaxTokens: 5}))
	if res.last.Finish != FinishLength || len(res.tokens) != 5 {
		t.Fatalf("after the panic: finish %q, %d tokens", res.last.Finish, len(res.tokens))
	}
	waitIdle(t, e)
}

func TestCloseWaitsThenCancels(t *testing.T) {
	m := tinyModel(t, tinyConfig, 7)
	e, err := New(m, nil, Config{Threads: 1, MaxBatchTokens: 64, MaxSeqs: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Slow the steps down so the long request cannot finish before Close
	// gives up. Set before the first Submit, which orders it before the
	// scheduler's reads.
	e.beforeForward = func(*llama.Batch) { time.Sleep(time.Millisecond) }
	short := submit(t, e, context.Background(), Request{Prompt: []int32{1, 5}, MaxTokens: 3})
	long := submit(t, e, context.Background(), Request{Prompt: []int32{1, 6}, MaxTokens: 400, IgnoreEOS: true})
	if res := collect(t, short); res.last.Finish != FinishLength {
		t.Fatalf("short request: %q", res.last.Finish)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := e.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a running request and an expiring context: %v", err)
	}
	res := collect(t, long)
	if res.last.Finish != FinishCancelled {
		t.Fatalf("long request after Close: %q after %d tokens", res.last.Finish, len(res.tokens))
	}
	if _, err := e.Submit(context.Background(), Request{Prompt: []int32{1}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Close: %v, want ErrClosed", err)
	}
	if st := e.Stats(); st.KVBlocksUsed != 0 {
		t.Fatalf("blocks held after Close: %+v", st)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseLetsRequestsFinish(t *testing.T) {
	m := tinyModel(t, tinyConfig, 8)
	e, err := New(m, nil, Config{Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := submit(t, e, context.Background(), Request{Prompt: []int32{1, 5}, MaxTokens: 20})
	done := make(chan result)
	go func() { done <- collect(t, ch) }()
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := <-done; res.last.Finish != FinishLength || len(res.tokens) != 20 {
		t.Fatalf("request during Close: %q after %d tokens", res.last.Finish, len(res.tokens))
	}
}
