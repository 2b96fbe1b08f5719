package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"sieve/kernels"
	"sieve/llama"
	"sieve/sparsity"
)

// sparseSpec is a server default spec whose snapkv observation window and
// pooling suit short test sequences.
func sparseSpec(t testing.TB) sparsity.Spec {
	t.Helper()
	s := sparsity.DefaultSpec()
	s.Obs, s.Kernel = 6, 3
	return s
}

// sparseRequests returns requests long enough to be compressed while they
// prefill (chunks of 16) and while they decode, cycling through the sparse
// policies at budget 12 (snapkv 16), with every fourth request dense.
func sparseRequests(vocab int) []Request {
	r := rand.New(rand.NewPCG(77, 1))
	policies := []string{"h2o", "window", "snapkv", "full", "layered", "pyramid", "h2o", "window"}
	var reqs []Request
	for i := range 12 {
		p := policies[i%len(policies)]
		req := Request{ID: fmt.Sprint(i), Prompt: randomPrompt(r, 5+(i*23)%70, vocab), MaxTokens: 10 + i%7,
			IgnoreEOS: true, ReturnLogits: true, KVPolicy: p, KVBudget: 12}
		if p == "snapkv" {
			req.KVBudget = 16
		}
		if i%3 == 1 {
			req.Params = SamplingParams{Temperature: 0.9, TopP: 0.95, Seed: uint64(i)}
		}
		reqs = append(reqs, req)
	}
	return reqs
}

// sparseConfig is an engine configuration with small blocks, so that short
// sequences evict, and room for every request.
func sparseConfig(t testing.TB, kv string) Config {
	return Config{MaxBatchTokens: 64, MaxSeqs: 16, PrefillChunk: 16, BlockSize: 4, KVDType: kv, KV: sparseSpec(t)}
}

func TestSparseBatchInvariantLogits(t *testing.T) {
	m := tinyModel(t, tinyConfig, 31)
	for _, kv := range []string{"f32", "f16"} {
		t.Run(kv, func(t *testing.T) {
			reqs := sparseRequests(m.Config.VocabSize)
			cfg := sparseConfig(t, kv)
			alone := runAlone(t, newEngine(t, m, nil, cfg), reqs)
			e := newEngine(t, m, nil, cfg)
			together := runStaggered(t, e, reqs)
			for i, req := range reqs {
				a, b := alone[i], together[i]
				if len(a.logits) != req.MaxTokens || len(b.logits) != len(a.logits) {
					t.Fatalf("request %d: %d and %d logits rows, want %d", i, len(a.logits), len(b.logits), req.MaxTokens)
				}
				for j := range a.logits {
					if k := firstBitDiff(a.logits[j], b.logits[j]); k >= 0 {
						t.Fatalf("request %d (%s) token %d logit %d: alone %v, batched %v", i, req.KVPolicy, j, k, a.logits[j][k], b.logits[j][k])
					}
				}
				u := a.last.Usage
				if want := m.Config.Layers * (u.PromptTokens + u.CompletionTokens - 1); u.KVTokensKept+u.KVTokensEvicted != want {
					t.Errorf("request %d: kept %d + evicted %d, want %d", i, u.KVTokensKept, u.KVTokensEvicted, want)
				}
				if (u.KVTokensEvicted > 0) != evicts(t, e, req) {
					t.Errorf("request %d (%s): %d tokens evicted", i, req.KVPolicy, u.KVTokensEvicted)
				}
				if b.last.Usage != u {
					t.Errorf("request %d: usage alone %+v, batched %+v", i, u, b.last.Usage)
				}
			}
			if st := e.Stats(); st.Evictions == 0 || st.EvictedTokens == 0 || st.BlocksFreed == 0 {
				t.Errorf("eviction counters not kept: %+v", st)
			}
		})
	}
}

// evicts reports whether some layer of req reaches its budget plus a
// block: the sequence caches prompt + max_tokens - 1 tokens.
func evicts(t *testing.T, e *Engine, req Request) bool {
	t.Helper()
	total := len(req.Prompt) + req.MaxTokens
	kv, err := e.bindPlan(req, total)
	if err != nil {
		t.Fatal(err)
	}
	for _, lb := range kv.plan.Layers {
		if !lb.Dense && total-1 >= lb.Budget()+e.cfg.BlockSize {
			return true
		}
	}
	return false
}

func TestUnevictedPoliciesMatchFull(t *testing.T) {
	m := tinyModel(t, tinyConfig, 32)
	r := rand.New(rand.NewPCG(5, 5))
	prompt := randomPrompt(r, 37, m.Config.VocabSize)
	const gen = 20
	total := len(prompt) + gen
	base := Request{Prompt: prompt, MaxTokens: gen, IgnoreEOS: true, ReturnLogits: true}
	cfg := sparseConfig(t, "f32")
	e := newEngine(t, m, nil, cfg)
	want := collect(t, submit(t, e, context.Background(), base))
	tests := []struct {
		policy string
		budget float64
	}{
		{"h2o", float64(total)},                    // the budget covers the request: a dense plan
		{"window", 100000},                         // likewise
		{"h2o", float64(total - cfg.BlockSize)},    // sparse and scored, but never due
		{"snapkv", float64(total - cfg.BlockSize)}, // observes, compresses nothing
		{"layered", float64(total - cfg.BlockSize)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.policy, tt.budget), func(t *testing.T) {
			req := base
			req.KVPolicy, req.KVBudget = tt.policy, tt.budget
			got := collect(t, submit(t, e, context.Background(), req))
			if len(got.logits) != len(want.logits) {
				t.Fatalf("%d logits rows, want %d", len(got.logits), len(want.logits))
			}
			for j := range want.logits {
				if k := firstBitDiff(got.logits[j], want.logits[j]); k >= 0 {
					t.Fatalf("token %d logit %d: %v, full %v", j, k, got.logits[j][k], want.logits[j][k])
				}
			}
			if got.last.Usage.KVTokensEvicted != 0 {
				t.Fatalf("%d tokens evicted", got.last.Usage.KVTokensEvicted)
			}
		})
	}
	if st := e.Stats(); st.Evictions != 0 {
		t.Fatalf("%d evictions", st.Evictions)
	}
}

// refAttn wraps the engine's cache and checks every attention output
// against a float64 reference computed over exactly the positions the
// cache reports for the token's sequence and layer, from keys and values
// recorded as they were stored.
type refAttn struct {
	t   *testing.T
	e   *Engine
	f16 bool
	kv  map[[3]int32][2][]float64 // (sequence, layer, position) → key, value
	n   int                       // outputs checked
}

// stored rounds v as the cache stores it.
func (a *refAttn) stored(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if a.f16 {
			x = kernels.F16ToF32(kernels.F32ToF16(x))
		}
		out[i] = float64(x)
	}
	return out
}

func (a *refAttn) Attend(layer int, b *llama.Batch, q, k, v, out []float32) {
	c := a.e.m.Config
	kvd, qd, hd, group := c.KVDim(), c.Heads*c.HeadDim, c.HeadDim, c.Heads/c.KVHeads
	for i := range b.Len() {
		a.kv[[3]int32{b.Seq[i], int32(layer), b.Pos[i]}] = [2][]float64{a.stored(k[i*kvd : (i+1)*kvd]), a.stored(v[i*kvd : (i+1)*kvd])}
	}
	a.e.cache.Attend(layer, b, q, k, v, out)
	scale := 1 / math.Sqrt(float64(hd))
	for i := range b.Len() {
		var kept []int32
		for _, p := range a.e.cache.Positions(b.Seq[i], layer, nil) {
			if p <= b.Pos[i] {
				kept = append(kept, p)
			}
		}
		for h := range c.Heads {
			kh := h / group
			qh := q[i*qd+h*hd : i*qd+(h+1)*hd]
			s := make([]float64, len(kept))
			mx := math.Inf(-1)
			for j, p := range kept {
				key := a.kv[[3]int32{b.Seq[i], int32(layer), p}][0][kh*hd:]
				for x := range hd {
					s[j] += float64(qh[x]) * key[x]
				}
				s[j] *= scale
				mx = max(mx, s[j])
			}
			var sum float64
			for j := range s {
				s[j] = math.Exp(s[j] - mx)
				sum += s[j]
			}
			for x := range hd {
				var o float64
				for j, p := range kept {
					o += s[j] / sum * a.kv[[3]int32{b.Seq[i], int32(layer), p}][1][kh*hd+x]
				}
				if got := float64(out[i*qd+h*hd+x]); math.Abs(got-o) > 1e-5 {
					a.t.Errorf("layer %d seq %d pos %d head %d [%d] over %d kept positions: %v, reference %v", layer, b.Seq[i], b.Pos[i], h, x, len(kept), got, o)
					panic("attention differs from the reference")
				}
			}
		}
		a.n++
	}
}

func TestEvictedAttentionMatchesReference(t *testing.T) {
	m := tinyModel(t, tinyConfig, 33)
	for _, policy := range []string{"window", "h2o", "snapkv", "pyramid"} {
		for _, kv := range []string{"f32", "f16"} {
			t.Run(policy+"/"+kv, func(t *testing.T) {
				cfg := sparseConfig(t, kv)
				e := newEngine(t, m, nil, cfg)
				ref := &refAttn{t: t, e: e, f16: kv == "f16", kv: map[[3]int32][2][]float64{}}
				e.attn = ref
				budget := 12
				if policy == "snapkv" {
					budget = 16
				}
				checked, heavy := 0, false
				e.afterStep = func() { // after eviction: the kept set's shape
					for _, q := range e.sched.running {
						if q.cacheSeq < 0 {
							continue
						}
						if policy == "window" {
							checkWindow(t, e, q, budget)
							checked++
						}
						// A slot kept between the sinks and the window.
						lb := q.kv.plan.Layers[0]
						pos := e.cache.Positions(q.cacheSeq, 0, nil)
						for i, p := range pos {
							if p >= int32(lb.Sink) && i < len(pos)-lb.Window && p < pos[i+1]-1 {
								heavy = true
							}
						}
					}
				}
				r := rand.New(rand.NewPCG(uint64(len(policy)), 3))
				var reqs []Request
				for i := range 3 {
					reqs = append(reqs, Request{Prompt: randomPrompt(r, 30+17*i, m.Config.VocabSize), MaxTokens: 25, IgnoreEOS: true,
						KVPolicy: policy, KVBudget: float64(budget)})
				}
				for i, res := range runStaggered(t, e, reqs) {
					if res.last.Finish != FinishLength || res.last.Usage.KVTokensEvicted == 0 {
						t.Fatalf("request %d: %q, %d evicted", i, res.last.Finish, res.last.Usage.KVTokensEvicted)
					}
				}
				if ref.n == 0 || (policy == "window" && checked == 0) {
					t.Fatal("nothing checked")
				}
				if heavy != (policy != "window") {
					t.Fatalf("%s kept slots outside sinks and recent window: %v", policy, heavy)
				}
			})
		}
	}
}

// checkWindow checks that every layer of a window-policy sequence keeps
// the sinks and one run of the most recent positions: the window, plus the
// slots that wait for the next block-sized eviction. It runs on the
// scheduler goroutine, so it reports with Errorf.
func checkWindow(t *testing.T, e *Engine, q *sequence, budget int) {
	lb := q.kv.plan.Layers[0]
	for l := range e.m.Config.Layers {
		pos := e.cache.Positions(q.cacheSeq, l, nil)
		sinks := 0
		for sinks < len(pos) && pos[sinks] < int32(lb.Sink) {
			sinks++
		}
		recent := pos[sinks:]
		switch {
		case sinks != min(lb.Sink, q.computed):
			t.Errorf("layer %d: %d sinks in %v", l, sinks, pos)
		case len(recent) > 0 && (recent[len(recent)-1] != int32(q.computed-1) || int(recent[len(recent)-1]-recent[0])+1 != len(recent)):
			t.Errorf("layer %d: after %d tokens the window is %v", l, q.computed, recent)
		case q.computed >= budget && (len(pos) < budget || len(pos) >= budget+e.cfg.BlockSize):
			t.Errorf("layer %d holds %d slots for a budget of %d", l, len(pos), budget)
		default:
			continue
		}
		return
	}
}

func TestSparseBlocksMatchKeptTokens(t *testing.T) {
	// Wide KV rows make 1 MiB a small pool (63 blocks of 16, 15 per layer),
	// so sequences are preempted too.
	m := tinyModel(t, wideConfig, 34)
	cfg := Config{KVCacheMiB: 1, KVDType: "f32", MaxBatchTokens: 64, MaxSeqs: 16, PrefillChunk: 16, KV: sparseSpec(t)}
	e := newEngine(t, m, nil, cfg)
	bs := e.cfg.BlockSize
	seen := map[*sequence]int{} // the most tokens each sequence had cached
	sparsePreempted := 0
	e.afterStep = func() {
		used := 0
		for _, q := range e.sched.running {
			if q.cacheSeq < 0 {
				continue
			}
			if q.computed < seen[q] && !q.kv.plan.Dense() {
				sparsePreempted++
			}
			seen[q] = max(seen[q], q.computed)
			for l := range m.Config.Layers {
				n, blocks := e.cache.Len(q.cacheSeq, l), e.cache.LayerBlocks(q.cacheSeq, l)
				if blocks != (n+bs-1)/bs {
					t.Errorf("layer %d holds %d slots in %d blocks", l, n, blocks)
				}
				if n > q.kv.bounds.Peak[l] {
					t.Errorf("layer %d holds %d slots over its cap %d", l, n, q.kv.bounds.Peak[l])
				}
				used += blocks
			}
		}
		if got := e.cache.Blocks() - e.cache.FreeBlocks(); got != used {
			t.Errorf("%d blocks in use, the running sequences hold %d", got, used)
		}
	}
	r := rand.New(rand.NewPCG(12, 13))
	policies := []string{"h2o", "window", "snapkv", "layered", "full"}
	type job struct {
		req    Request
		ch     <-chan Event
		cancel context.CancelFunc
	}
	var jobs []job
	for i := range 40 {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		p := policies[i%len(policies)]
		req := Request{Prompt: randomPrompt(r, 2+r.IntN(90), m.Config.VocabSize), MaxTokens: 1 + r.IntN(60), KVPolicy: p, KVBudget: 32}
		if p == "full" {
			req.MaxTokens = 40 + r.IntN(100) // dense growth: preemptions
		}
		ch, err := e.Submit(ctx, req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		jobs = append(jobs, job{req, ch, cancel})
	}
	for i, j := range jobs {
		if i%4 == 3 {
			j.cancel()
		}
	}
	finishes := map[FinishReason]int{}
	for i, j := range jobs {
		res := collect(t, j.ch)
		finishes[res.last.Finish]++
		u := res.last.Usage
		switch res.last.Finish {
		case FinishLength:
			if want := m.Config.Layers * (u.PromptTokens + u.CompletionTokens - 1); u.KVTokensKept+u.KVTokensEvicted != want {
				t.Errorf("request %d: kept %d + evicted %d, want %d", i, u.KVTokensKept, u.KVTokensEvicted, want)
			}
		case FinishCancelled:
		default:
			t.Errorf("request %d: %q (%v)", i, res.last.Finish, res.last.Err)
		}
	}
	st := e.Stats()
	t.Logf("finishes %v, stats %+v", finishes, st)
	if sparsePreempted == 0 || st.Evictions == 0 || finishes[FinishCancelled] == 0 {
		t.Errorf("want preemptions, evictions and cancellations: %v %+v", finishes, st)
	}
	waitIdle(t, e)
}

func TestSparseSubmitChecks(t *testing.T) {
	m := tinyModel(t, wideConfig, 35)
	// 1 MiB of F32: 63 blocks of 16, 15 per layer.
	e := newEngine(t, m, nil, Config{KVCacheMiB: 1, KVDType: "f32", MaxBatchTokens: 64, MaxSeqs: 4, PrefillChunk: 16, KV: sparseSpec(t)})
	tests := []struct {
		name string
		req  Request
		want error
		msg  string
	}{
		{"unknown policy", Request{Prompt: []int32{1}, MaxTokens: 5, KVPolicy: "lru"}, ErrBadRequest, "unknown policy"},
		{"no budget", Request{Prompt: []int32{1}, MaxTokens: 5, KVPolicy: "h2o"}, ErrBadRequest, "needs a budget"},
		{"negative budget", Request{Prompt: []int32{1}, MaxTokens: 5, KVPolicy: "h2o", KVBudget: -3}, ErrBadRequest, "negative"},
		{"dense beyond the pool", Request{Prompt: []int32{1, 2, 3}, MaxTokens: 260}, ErrTooLong, "KV blocks"},
		{"forced and max tokens", Request{Prompt: []int32{1}, Forced: []int32{2, 3}, MaxTokens: 1}, ErrBadRequest, "forced"},
		{"forced token out of range", Request{Prompt: []int32{1}, Forced: []int32{2, -3}}, ErrBadRequest, "forced token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Submit(context.Background(), tt.req)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Submit: %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
	// The same length fits under a sparse policy: its layers stay small.
	for _, p := range []string{"window", "h2o", "snapkv"} {
		res := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 2, 3}, MaxTokens: 260, IgnoreEOS: true, KVPolicy: p, KVBudget: 64}))
		if res.last.Finish != FinishLength || len(res.tokens) != 260 {
			t.Fatalf("%s: %q after %d tokens", p, res.last.Finish, len(res.tokens))
		}
	}
	waitIdle(t, e)
}

func TestForcedTokensMatchGeneration(t *testing.T) {
	m := tinyModel(t, tinyConfig, 36)
	e := newEngine(t, m, nil, sparseConfig(t, "f32"))
	r := rand.New(rand.NewPCG(3, 4))
	prompt := randomPrompt(r, 29, m.Config.VocabSize)
	for _, policy := range []string{"full", "h2o", "snapkv"} {
		t.Run(policy, func(t *testing.T) {
			gen := Request{Prompt: prompt, MaxTokens: 30, IgnoreEOS: true, ReturnLogits: true, KVPolicy: policy, KVBudget: 16,
				Params: SamplingParams{Temperature: 1, Seed: 9}}
			want := collect(t, submit(t, e, context.Background(), gen))
			forced := gen
			forced.Forced, forced.MaxTokens, forced.Logprobs = want.tokens, 0, true
			got := collect(t, submit(t, e, context.Background(), forced))
			if !slices.Equal(got.tokens, want.tokens) || got.last.Finish != FinishLength {
				t.Fatalf("forced run fed %v (%q), want %v", got.tokens, got.last.Finish, want.tokens)
			}
			if len(got.logits) != len(want.tokens)+1 || len(got.logprobs) != len(want.tokens) {
				t.Fatalf("%d logits rows and %d logprobs for %d forced tokens", len(got.logits), len(got.logprobs), len(want.tokens))
			}
			for j := range want.logits {
				if k := firstBitDiff(got.logits[j], want.logits[j]); k >= 0 {
					t.Fatalf("token %d logit %d: forced %v, generated %v", j, k, got.logits[j][k], want.logits[j][k])
				}
				if lp := got.logprobs[j]; lp.Token != want.tokens[j] || lp.Logprob > 0 {
					t.Fatalf("token %d: logprob %+v", j, lp)
				}
			}
			// Forcing the first ten of a greedy run and decoding on
			// continues as the run did: the cache is the same.
			greedy := Request{Prompt: prompt, MaxTokens: 30, IgnoreEOS: true, KVPolicy: policy, KVBudget: 16}
			wantGreedy := collect(t, submit(t, e, context.Background(), greedy))
			greedy.Forced = wantGreedy.tokens[:10]
			cont := collect(t, submit(t, e, context.Background(), greedy))
			if !slices.Equal(cont.tokens, wantGreedy.tokens) || cont.last.Finish != FinishLength {
				t.Fatalf("forcing 10 then decoding gave %v (%q), want %v", cont.tokens, cont.last.Finish, wantGreedy.tokens)
			}
			if policy != "full" && got.last.Usage.KVTokensEvicted == 0 {
				t.Fatal("no eviction while forcing")
			}
			// Usage counts the fed tokens, and the cache holds them all.
			u := got.last.Usage
			if want := m.Config.Layers * (len(prompt) + len(want.tokens)); u.KVTokensKept+u.KVTokensEvicted != want {
				t.Fatalf("kept %d + evicted %d, want %d", u.KVTokensKept, u.KVTokensEvicted, want)
			}
		})
	}
}
