package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// prefixRequests are requests over stories260K that share a 70-token
// prefix (four full blocks of 16 and 6 tokens), each with its own tail,
// returning their logits.
func prefixRequests(vocab int) (shared []int32, reqs []Request) {
	r := rand.New(rand.NewPCG(23, 1))
	shared = randomPrompt(r, 70, vocab)
	for i := range 4 {
		tail := randomPrompt(r, 10+7*i, vocab)[1:]
		reqs = append(reqs, Request{Prompt: append(slices.Clone(shared), tail...), MaxTokens: 12, IgnoreEOS: true, ReturnLogits: true})
	}
	return shared, reqs
}

// checkSameLogits fails unless got and want hold the same tokens and
// bit-identical logits.
func checkSameLogits(t *testing.T, what string, got, want result) {
	t.Helper()
	if !slices.Equal(got.tokens, want.tokens) || len(got.logits) != len(want.logits) || len(want.logits) == 0 {
		t.Fatalf("%s: tokens %v (%d logits rows), want %v (%d)", what, got.tokens, len(got.logits), want.tokens, len(want.logits))
	}
	for j := range want.logits {
		if k := firstBitDiff(got.logits[j], want.logits[j]); k >= 0 {
			t.Fatalf("%s: token %d logit %d: %v, want %v", what, j, k, got.logits[j][k], want.logits[j][k])
		}
	}
}

// auditIdle checks, once e is idle, that no block is held and that the
// cache's ownership invariants hold.
func auditIdle(t *testing.T, e *Engine) {
	t.Helper()
	waitIdle(t, e)
	e.mu.Lock() // the scheduler is parked; keep Submit out while auditing
	defer e.mu.Unlock()
	if err := e.cache.Audit(); err != nil {
		t.Fatal(err)
	}
	if st := e.cache.Stats(); st.Cached != st.CachedIdle || e.cache.FreeBlocks() != e.cache.Blocks() {
		t.Fatalf("idle pool: %+v, %d of %d free", st, e.cache.FreeBlocks(), e.cache.Blocks())
	}
}

func TestPrefixCacheLogitsMatchCachingOff(t *testing.T) {
	m, tok := stories(t)
	for _, kv := range []string{"f32", "f16"} {
		for _, batched := range []bool{false, true} {
			name := kv + "/alone"
			if batched {
				name = kv + "/batched"
			}
			t.Run(name, func(t *testing.T) {
				// Chunks of 48 over blocks of 16: a hit of 64 tokens
				// resumes mid-chunk.
				cfg := Config{MaxBatchTokens: 64, MaxSeqs: 8, PrefillChunk: 48, KVDType: kv}
				_, reqs := prefixRequests(m.Config.VocabSize)
				off := cfg
				off.DisablePrefixCaching = true
				want := runAlone(t, newEngine(t, m, tok, off), reqs)
				on := newEngine(t, m, tok, cfg)
				first := collect(t, submit(t, on, context.Background(), reqs[0]))
				checkSameLogits(t, "first request", first, want[0])
				if first.last.Usage.CachedTokens != 0 {
					t.Fatalf("first request: %d cached tokens", first.last.Usage.CachedTokens)
				}
				var got []result
				if batched {
					got = runStaggered(t, on, reqs[1:])
				} else {
					got = runAlone(t, on, reqs[1:])
				}
				for i, g := range got {
					checkSameLogits(t, "request", g, want[i+1])
					if c := g.last.Usage.CachedTokens; c != 64 {
						t.Errorf("request %d: %d cached tokens, want 64", i+1, c)
					}
				}
				st := on.Stats()
				if st.PrefixCacheHits != 64*3 || st.PrefixCacheQueries != int64(len(reqs[0].Prompt)+len(reqs[1].Prompt)+len(reqs[2].Prompt)+len(reqs[3].Prompt)) {
					t.Errorf("stats: %d hits of %d queries", st.PrefixCacheHits, st.PrefixCacheQueries)
				}
				auditIdle(t, on)
			})
		}
	}
}

func TestPrefixCacheContinuesAConversation(t *testing.T) {
	m, tok := stories(t)
	cfg := Config{MaxBatchTokens: 64, MaxSeqs: 8, PrefillChunk: 48, KVDType: "f32"}
	off := cfg
	off.DisablePrefixCaching = true
	eOn, eOff := newEngine(t, m, tok, cfg), newEngine(t, m, tok, off)
	r := rand.New(rand.NewPCG(4, 4))
	history := randomPrompt(r, 40, m.Config.VocabSize)
	for turn := range 4 {
		req := Request{Prompt: slices.Clone(history), MaxTokens: 20, IgnoreEOS: true, ReturnLogits: true}
		got := collect(t, submit(t, eOn, context.Background(), req))
		want := collect(t, submit(t, eOff, context.Background(), req))
		checkSameLogits(t, "turn", got, want)
		// The history's blocks, generated tokens included, come back.
		if wantCached := (len(history) - 20 - 9) / 16 * 16; turn > 0 && got.last.Usage.CachedTokens < wantCached {
			t.Errorf("turn %d: %d cached tokens of %d, want at least %d", turn, got.last.Usage.CachedTokens, len(history), wantCached)
		}
		history = append(append(history, got.tokens...), randomPrompt(r, 10, m.Config.VocabSize)[1:]...)
	}
	auditIdle(t, eOn)
}

func TestPrefixCacheReusesBlocksBeforeTheFirstDifference(t *testing.T) {
	m, tok := stories(t)
	e := newEngine(t, m, tok, Config{MaxBatchTokens: 64, MaxSeqs: 4, PrefillChunk: 48})
	r := rand.New(rand.NewPCG(5, 5))
	base := randomPrompt(r, 80, m.Config.VocabSize)
	collect(t, submit(t, e, context.Background(), Request{Prompt: base, MaxTokens: 1}))
	tests := []struct {
		at, want int // position changed; cached tokens
	}{{1, 0}, {15, 0}, {16, 16}, {37, 32}, {64, 64}, {79, 64}, {-1, 64}}
	for _, tt := range tests {
		p := slices.Clone(base)
		if tt.at >= 0 {
			p[tt.at] = 3 + (p[tt.at]-3+1)%int32(m.Config.VocabSize-3)
		}
		res := collect(t, submit(t, e, context.Background(), Request{Prompt: p, MaxTokens: 1}))
		if got := res.last.Usage.CachedTokens; got != tt.want {
			t.Errorf("prompt changed at %d: %d cached tokens, want %d", tt.at, got, tt.want)
		}
		waitIdle(t, e)
		e.mu.Lock() // the scheduler is parked: only base's blocks should count
		e.cache.ClearPrefixCache()
		e.mu.Unlock()
		collect(t, submit(t, e, context.Background(), Request{Prompt: base, MaxTokens: 1}))
	}
	auditIdle(t, e)
}

func TestNoPrefixCachingKeepsTodaysBehaviour(t *testing.T) {
	m, tok := stories(t)
	cfg := Config{MaxBatchTokens: 64, MaxSeqs: 8, PrefillChunk: 48, DisablePrefixCaching: true}
	e := newEngine(t, m, tok, cfg)
	_, reqs := prefixRequests(m.Config.VocabSize)
	reqs = append(reqs, reqs...)
	prompt := 0
	for _, r := range reqs {
		prompt += len(r.Prompt)
	}
	for i, res := range runStaggered(t, e, reqs) {
		if res.last.Usage.CachedTokens != 0 {
			t.Errorf("request %d: %d cached tokens", i, res.last.Usage.CachedTokens)
		}
	}
	st := e.Stats()
	if st.PrefixCacheQueries != 0 || st.PrefixCacheHits != 0 || st.KVBlocksCached != 0 || st.PrefillTokens != int64(prompt) {
		t.Errorf("stats with caching off: %+v, want %d prefill tokens", st, prompt)
	}
	auditIdle(t, e)
	if e.cache.Stats().Cached != 0 {
		t.Errorf("cache holds blocks with caching off")
	}
}

func TestConcurrentRequestsPrefillASharedPromptOnce(t *testing.T) {
	m, tok := stories(t)
	e := newEngine(t, m, tok, Config{MaxBatchTokens: 128, MaxSeqs: 16, PrefillChunk: 96})
	r := rand.New(rand.NewPCG(6, 6))
	system := randomPrompt(r, 300, m.Config.VocabSize)
	var chans []<-chan Event
	for range 16 {
		p := append(slices.Clone(system), randomPrompt(r, 21, m.Config.VocabSize)[1:]...)
		chans = append(chans, submit(t, e, context.Background(), Request{Prompt: p, MaxTokens: 4, IgnoreEOS: true}))
	}
	cached := 0
	for _, ch := range chans {
		cached += collect(t, ch).last.Usage.CachedTokens
	}
	// The system prompt's 18 full blocks are computed once; each request
	// computes its own tail from the block the system prompt ends in.
	st := e.Stats()
	if want := int64(300 + 16*(20+300%16)); st.PrefillTokens > want || cached != 15*288 {
		t.Errorf("%d tokens prefilled (want at most %d), %d cached (want %d)", st.PrefillTokens, want, cached, 15*288)
	}
	auditIdle(t, e)
}
