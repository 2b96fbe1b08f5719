package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPrefixCacheAccountsForEveryBlock(t *testing.T) {
	// 63 blocks of 16 tokens, 15 per layer: requests sharing prefixes are
	// preempted, cancelled before, during and after their prefill, and
	// finish, under dense and sparse policies.
	m := tinyModel(t, wideConfig, 5)
	e := newEngine(t, m, nil, Config{KVCacheMiB: 1, KVDType: "f32", MaxBatchTokens: 64, MaxSeqs: 16, PrefillChunk: 16, KV: sparseSpec(t)})
	r := rand.New(rand.NewPCG(8, 10))
	prefixes := [][]int32{randomPrompt(r, 40, m.Config.VocabSize), randomPrompt(r, 70, m.Config.VocabSize)}
	policies := []string{"full", "full", "full", "window", "h2o", "snapkv", "full", "layered"}
	var wg sync.WaitGroup
	for i := range 150 {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		prompt := slices.Clone(prefixes[i%2][:r.IntN(len(prefixes[i%2]))+1])
		prompt = append(prompt, randomPrompt(r, r.IntN(30)+1, m.Config.VocabSize)[1:]...)
		req := Request{Prompt: prompt, MaxTokens: 1 + r.IntN(100), IgnoreEOS: true, KVPolicy: policies[i%len(policies)], KVBudget: 24}
		ch, err := e.Submit(ctx, req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		when := r.IntN(5) // 0: a random delay, 1: soon, else never
		delay := time.Duration(r.IntN(3000)) * time.Microsecond
		if when == 1 {
			delay /= 15
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			if when < 2 {
				time.AfterFunc(delay, cancel)
			}
			res := collect(t, ch)
			if res.last.Finish != FinishLength && res.last.Finish != FinishCancelled {
				t.Errorf("finished %q (%v)", res.last.Finish, res.last.Err)
			}
		}()
	}
	wg.Wait()
	st := e.Stats()
	t.Logf("stats %+v", st)
	if st.PrefixCacheHits == 0 || st.Preemptions == 0 || st.Evictions == 0 {
		t.Errorf("want cache hits, preemptions and evictions: %+v", st)
	}
	auditIdle(t, e)
}

func TestPoolFullOfCachedBlocksServes(t *testing.T) {
	m := tinyModel(t, wideConfig, 6)
	e := newEngine(t, m, nil, Config{KVCacheMiB: 1, KVDType: "f32", MaxBatchTokens: 64, MaxSeqs: 4, PrefillChunk: 16})
	r := rand.New(rand.NewPCG(3, 3))
	for range 8 { // distinct prompts until every block is cached
		collect(t, submit(t, e, context.Background(), Request{Prompt: randomPrompt(r, 100, m.Config.VocabSize), MaxTokens: 20}))
	}
	if st := e.cache.Stats(); st.CachedIdle < st.Blocks-2*m.Config.Layers {
		t.Fatalf("pool not full of cached blocks: %+v", st)
	}
	// The longest request the pool holds, and several at once, still run.
	long := Request{Prompt: randomPrompt(r, e.MaxSequenceTokens()-10, m.Config.VocabSize), MaxTokens: 10}
	if res := collect(t, submit(t, e, context.Background(), long)); res.last.Finish != FinishLength {
		t.Fatalf("long request: %q", res.last.Finish)
	}
	var chans []<-chan Event
	for range 6 {
		chans = append(chans, submit(t, e, context.Background(), Request{Prompt: randomPrompt(r, 90, m.Config.VocabSize), MaxTokens: 30}))
	}
	for _, ch := range chans {
		if res := collect(t, ch); res.last.Finish != FinishLength {
			t.Fatalf("request: %q", res.last.Finish)
		}
	}
	auditIdle(t, e)
}

func TestSparseSequencesLeaveCachedPrefixIntact(t *testing.T) {
	m, tok := stories(t)
	cfg := Config{MaxBatchTokens: 64, MaxSeqs: 8, PrefillChunk: 48, KVDType: "f32", KV: sparseSpec(t)}
	off := cfg
	off.DisablePrefixCaching = true
	_, reqs := prefixRequests(m.Config.VocabSize)
	dense := reqs[0]
	want := collect(t, submit(t, newEngine(t, m, tok, off), context.Background(), dense))
	for _, policy := range []string{"window", "h2o", "snapkv", "layered", "pyramid"} {
		t.Run(policy, func(t *testing.T) {
			e := newEngine(t, m, tok, cfg)
			checkSameLogits(t, "dense before", collect(t, submit(t, e, context.Background(), dense)), want)
			// Sparse requests over the cached prefix, compacting while a
			// dense one reads the same blocks.
			var batch []Request
			for _, r := range reqs[1:] {
				r.KVPolicy, r.KVBudget, r.MaxTokens = policy, 20, 30
				batch = append(batch, r)
			}
			batch = append(batch, dense)
			res := runStaggered(t, e, batch)
			eOff := newEngine(t, m, tok, off)
			for i, r := range res[:len(res)-1] {
				if r.last.Usage.CachedTokens == 0 || r.last.Usage.KVTokensEvicted == 0 {
					t.Errorf("sparse request %d: usage %+v, want cached and evicted tokens", i, r.last.Usage)
				}
				// window and snapkv score nothing the cached prefix's own
				// queries gave, and attach no more than a run without
				// the cache holds before its first compaction: the same
				// logits. The others lose those queries' scores.
				if policy == "window" || policy == "snapkv" {
					checkSameLogits(t, "sparse request", r, collect(t, submit(t, eOff, context.Background(), batch[i])))
				}
			}
			checkSameLogits(t, "dense beside sparse", res[len(res)-1], want)
			checkSameLogits(t, "dense after", collect(t, submit(t, e, context.Background(), dense)), want)
			auditIdle(t, e)
		})
	}
}

func TestSparseReuseStaysWithinItsCap(t *testing.T) {
	// 15 blocks of 16 per layer. A dense request caches 14 blocks; a
	// window request over the same prefix fits the pool only under its
	// cap: attaching the whole cached prefix and then prefilling its
	// 26-token tail in one chunk would need 16 blocks per layer.
	m := tinyModel(t, wideConfig, 7)
	e := newEngine(t, m, nil, Config{KVCacheMiB: 1, KVDType: "f32", MaxBatchTokens: 64, MaxSeqs: 4, PrefillChunk: 32})
	r := rand.New(rand.NewPCG(9, 9))
	prompt := randomPrompt(r, 230, m.Config.VocabSize)
	collect(t, submit(t, e, context.Background(), Request{Prompt: prompt, MaxTokens: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	long := append(slices.Clone(prompt), randomPrompt(r, 21, m.Config.VocabSize)[1:]...)
	res := collect(t, submit(t, e, ctx, Request{Prompt: long, MaxTokens: 5, KVPolicy: "window", KVBudget: 32}))
	if res.last.Finish != FinishLength || res.last.Usage.CachedTokens == 0 {
		t.Fatalf("window request over the cached prefix: %q, usage %+v", res.last.Finish, res.last.Usage)
	}
	auditIdle(t, e)
}
