package eval

import (
	"context"
	"math"
	"slices"
	"testing"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
	"sieve/model/load"
	"sieve/sparsity"
	"sieve/tokenizer"
)

// stories260K loads the model with its tokenizer.
func stories260K(t *testing.T) *model.Model {
	t.Helper()
	m, err := load.Open(testmodels.Path(t, "stories260K.bin"), testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// nll is the negative log-likelihood of tok under logits, computed plainly
// in float64.
func nll(logits []float32, tok int32) float64 {
	mx := math.Inf(-1)
	for _, x := range logits {
		mx = math.Max(mx, float64(x))
	}
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - mx)
	}
	return mx + math.Log(sum) - float64(logits[tok])
}

// densePPL is the perplexity of seq teacher-forced through the dense
// reference cache, with no engine involved.
func densePPL(t *testing.T, m *model.Model, seqs [][]int32) float64 {
	ppl, _ := densePPLFrom(t, m, seqs, nil)
	return ppl
}

// densePPLFrom is densePPL scoring each text from its position in from
// (nil: from position 1), with the number of positions scored.
func densePPLFrom(t *testing.T, m *model.Model, seqs [][]int32, from []int) (float64, int) {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	run := llama.NewRunner(m, pool, 64)
	var sum float64
	n := 0
	for k, seq := range seqs {
		i, first := 1, 1
		if from != nil {
			first = from[k]
		}
		err := run.Generate(context.Background(), llama.NewDenseCache(m.Config, pool, 1, len(seq)), seq[:1], len(seq)-1,
			func(logits []float32) int32 {
				if i >= first {
					sum += nll(logits, seq[i])
					n++
				}
				return seq[i]
			},
			func(int32) bool { i++; return true })
		if err != nil {
			t.Fatal(err)
		}
	}
	return math.Exp(sum / float64(n)), n
}

// enginePPL is the perplexity of seqs teacher-forced one at a time through
// a fresh engine under policy and budget.
func enginePPL(t *testing.T, m *model.Model, seqs [][]int32, policy string, budget float64) float64 {
	t.Helper()
	e, err := engine.New(m, nil, engine.Config{Threads: 2, KVDType: "f32", MaxSeqs: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	var sum float64
	n := 0
	for _, seq := range seqs {
		ch, err := e.Submit(context.Background(), engine.Request{
			Prompt: seq[:1], Forced: seq[1:], MaxTokens: len(seq) - 1, IgnoreEOS: true,
			ReturnLogits: true, KVPolicy: policy, KVBudget: budget,
		})
		if err != nil {
			t.Fatal(err)
		}
		i := 1
		for ev := range ch {
			for _, row := range ev.Logits {
				if i < len(seq) {
					sum += nll(row, seq[i])
					n++
				}
				i++
			}
		}
		if i < len(seq) {
			t.Fatalf("%d logits for %d forced tokens", i-1, len(seq)-1)
		}
	}
	return math.Exp(sum / float64(n))
}

func TestDivergenceStories(t *testing.T) {
	m := stories260K(t)
	const window = 160
	texts, err := Windows(m.Tokenizer, stories(t), window, window)
	if err != nil {
		t.Fatal(err)
	}
	texts = texts[:2]
	greedy := m.Tokenizer.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true})
	cfg := DivergenceConfig{
		Texts:        texts,
		Policies:     []string{"full", "window", "h2o", "snapkv", "pyramid", "layered"},
		Budgets:      []float64{0.5, float64(m.Config.ContextLen)},
		GreedyPrompt: greedy,
		GreedyTokens: 60,
		Threads:      2,
	}
	res, err := Divergence(context.Background(), m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(cfg.Policies)*len(cfg.Budgets) {
		t.Fatalf("%d results, want %d", len(res), len(cfg.Policies)*len(cfg.Budgets))
	}
	wantPPL := densePPL(t, m, texts)
	for i, r := range res {
		b, p := cfg.Budgets[i/len(cfg.Policies)], cfg.Policies[i%len(cfg.Policies)]
		t.Logf("%-8s %4v: ppl %.4f (full %.4f, %+.2f%%) kl %.5f top1 %.3f greedy %.3f kept %d evicted %d",
			r.Policy, r.Budget, r.PPL, r.PPLFull, 100*r.PPLIncrease, r.KL, r.Top1Agreement, r.GreedyAgreement, r.KVTokensKept, r.KVTokensEvicted)
		if r.Policy != p || r.Budget != b {
			t.Fatalf("result %d is %s at %v, want %s at %v", i, r.Policy, r.Budget, p, b)
		}
		if r.Positions != 2*(window-1) || r.GreedyPositions != cfg.GreedyTokens {
			t.Errorf("%s at %v: %d positions and %d greedy, want %d and %d", p, b, r.Positions, r.GreedyPositions, 2*(window-1), cfg.GreedyTokens)
		}
		if !(r.KL >= 0) || math.IsInf(r.PPL, 0) || !(r.PPL > 1) {
			t.Errorf("%s at %v: KL %v, ppl %v; want KL ≥ 0 and a finite ppl > 1", p, b, r.KL, r.PPL)
		}
		if math.Abs(r.PPLFull-wantPPL) > 1e-12*wantPPL {
			t.Errorf("%s at %v: full ppl %.15g, want exp(mean NLL) of the dense reference %.15g", p, b, r.PPLFull, wantPPL)
		}
		dense := p == "full" || b >= float64(m.Config.ContextLen)
		if dense {
			if r.KL != 0 || r.Top1Agreement != 1 || r.GreedyAgreement != 1 || r.PPL != r.PPLFull {
				t.Errorf("%s at %v keeps everything but gives KL %v, top-1 %v, greedy %v, ppl %v vs %v; want 0, 1, 1 and equal",
					p, b, r.KL, r.Top1Agreement, r.GreedyAgreement, r.PPL, r.PPLFull)
			}
			continue
		}
		if r.BudgetTokens != window/2 || r.GreedyBudgetTokens != (len(greedy)+cfg.GreedyTokens+1)/2 {
			t.Errorf("%s at %v: budgets %d and %d tokens, want %d and %d", p, b, r.BudgetTokens, r.GreedyBudgetTokens, window/2, (len(greedy)+cfg.GreedyTokens+1)/2)
		}
		if r.KL == 0 || r.KVTokensEvicted == 0 {
			t.Errorf("%s at %v: KL %v with %d tokens evicted; eviction was not active", p, b, r.KL, r.KVTokensEvicted)
		}
		if r.PPLIncrease > 0.5 || r.Top1Agreement < 0.5 {
			t.Errorf("%s at %v: ppl %+.1f%%, top-1 agreement %.3f; want within +50%% and at least 0.5", p, b, 100*r.PPLIncrease, r.Top1Agreement)
		}
		if p == "h2o" {
			if want := enginePPL(t, m, texts, p, b); math.Abs(r.PPL-want) > 1e-12*want {
				t.Errorf("h2o at %v: ppl %.15g, want exp(mean NLL) of lone engine runs %.15g", b, r.PPL, want)
			}
		}
	}
}

func TestDivergenceRejects(t *testing.T) {
	m := stories260K(t)
	seq := []int32{m.Tokenizer.BOS(), 403, 407}
	long := make([]int32, m.Config.ContextLen+1)
	tests := []struct {
		name string
		cfg  DivergenceConfig
	}{
		{"no text", DivergenceConfig{Policies: []string{"h2o"}, Budgets: []float64{0.5}}},
		{"text too long", DivergenceConfig{Texts: [][]int32{long}, Policies: []string{"h2o"}, Budgets: []float64{0.5}}},
		{"one-token text", DivergenceConfig{Texts: [][]int32{seq[:1]}, Policies: []string{"h2o"}, Budgets: []float64{0.5}}},
		{"unknown policy", DivergenceConfig{Texts: [][]int32{seq}, Policies: []string{"lru"}, Budgets: []float64{0.5}}},
		{"fractional token budget", DivergenceConfig{Texts: [][]int32{seq}, Policies: []string{"h2o"}, Budgets: []float64{1.5}}},
		{"no budget", DivergenceConfig{Texts: [][]int32{seq}, Policies: []string{"h2o"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Divergence(context.Background(), m, tt.cfg); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestSample(t *testing.T) {
	m := stories260K(t)
	a, err := Sample(context.Background(), m, SampleConfig{Count: 2, Seed: 7, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Sample(context.Background(), m, SampleConfig{Count: 1, Seed: 8, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2 || len(b) != 1 {
		t.Fatalf("got %d and %d samples, want 2 and 1", len(a), len(b))
	}
	for _, s := range append(a, b...) {
		if len(s) != m.Config.ContextLen || s[0] != m.Tokenizer.BOS() {
			t.Fatalf("sample of %d tokens starting %d; want %d starting with BOS", len(s), s[0], m.Config.ContextLen)
		}
	}
	if slices.Equal(a[0], a[1]) || !slices.Equal(a[1], b[0]) {
		t.Error("samples do not follow their seeds: seeds 7 and 8 agree, or seed 8 differs between runs")
	}
}

// TestGreedyMatchesForced checks that teacher-forcing full's greedy output
// reproduces it: the forced decode path computes the logits the sampler
// saw, so the greedy agreement compares like with like.
func TestGreedyMatchesForced(t *testing.T) {
	m := stories260K(t)
	r, err := newRunner(m, sparsity.DefaultSpec(), 2, 2, KVTypes{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	ctx := context.Background()
	prompt := m.Tokenizer.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true})
	gen, err := r.generate(ctx, prompt, 100, engine.SamplingParams{})
	if err != nil {
		t.Fatal(err)
	}
	seq := append(slices.Clone(prompt), gen...)
	ref, err := newReference(ctx, r, seq)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(prompt); i < len(seq); i++ {
		if ref.top[i] != int(seq[i]) {
			t.Fatalf("position %d: forced argmax %d, greedy token %d", i, ref.top[i], seq[i])
		}
	}
}
