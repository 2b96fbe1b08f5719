package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"sieve/engine"
	"sieve/internal/stats"
	"sieve/model"
	"sieve/sparsity"
)

// ThroughputConfig describes an offline serving benchmark in the style of
// vLLM's benchmark_throughput: Requests requests of InputLen random prompt
// tokens, each generating exactly OutputLen tokens (EOS ignored), all
// submitted at once to a fresh engine per run.
type ThroughputConfig struct {
	Requests  int    `json:"requests"`
	InputLen  int    `json:"input_len"`
	OutputLen int    `json:"output_len"`
	Repeats   int    `json:"repeats"`
	Seed      uint64 `json:"seed"`
	// Engine is the engine configuration of every run; its KV spec is
	// replaced by each run's policy.
	Engine engine.Config `json:"-"`
}

// ThroughputRun is one run's figures.
type ThroughputRun struct {
	ElapsedS         float64 `json:"elapsed_s"`
	OutputTokS       float64 `json:"output_tok_s"`
	TotalTokS        float64 `json:"total_tok_s"`
	TTFTP50S         float64 `json:"ttft_p50_s"` // percentiles as stats.Percentile, like bench serve's
	TTFTP99S         float64 `json:"ttft_p99_s"`
	MeanBatch        float64 `json:"mean_batch"` // decode tokens per step that had any
	PeakKVBlocks     int     `json:"peak_kv_blocks"`
	Preemptions      int64   `json:"preemptions"`
	RecomputedTokens int64   `json:"recomputed_tokens"`
	EvictedTokens    int64   `json:"evicted_tokens"`
}

// ThroughputResult is one policy's medians over its runs, and the runs.
type ThroughputResult struct {
	Policy string  `json:"policy"`
	Budget float64 `json:"budget"`
	ThroughputRun
	Runs []ThroughputRun `json:"runs"`
}

// ThroughputReport is the outcome of a benchmark: one result per policy,
// in the order given.
type ThroughputReport struct {
	Model     string             `json:"model"`
	Threads   int                `json:"threads"`
	KVBlocks  int                `json:"kv_blocks"`
	KVMiB     int                `json:"kv_cache_mib"`
	BlockSize int                `json:"block_size"`
	Config    ThroughputConfig   `json:"config"`
	Results   []ThroughputResult `json:"results"`
}

// Throughput runs the benchmark for each spec in turn, interleaved over
// the repeats (A, B, A, B, ...), each run on a fresh engine with the same
// prompts, and reports medians. log, which may be nil, gets each run.
func Throughput(ctx context.Context, m *model.Model, cfg ThroughputConfig, specs []sparsity.Spec, log *slog.Logger) (ThroughputReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := ThroughputReport{Model: m.Name, Config: cfg}
	switch {
	case cfg.Requests < 1 || cfg.InputLen < 1 || cfg.OutputLen < 1 || cfg.Repeats < 1:
		return rep, fmt.Errorf("bench: requests, input and output lengths and repeats must be at least 1")
	case len(specs) == 0:
		return rep, fmt.Errorf("bench: no policy to run")
	case cfg.InputLen+cfg.OutputLen > m.Config.ContextLen:
		return rep, fmt.Errorf("bench: %d input + %d output tokens exceed the model's context of %d", cfg.InputLen, cfg.OutputLen, m.Config.ContextLen)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 2))
	prompts := make([][]int32, cfg.Requests)
	for i := range prompts {
		prompts[i] = make([]int32, cfg.InputLen)
		for j := range prompts[i] {
			prompts[i][j] = int32(rng.IntN(m.Config.VocabSize))
		}
	}
	for _, s := range specs {
		rep.Results = append(rep.Results, ThroughputResult{Policy: string(s.Policy), Budget: s.Budget})
	}
	for r := 0; r < cfg.Repeats; r++ {
		for i, s := range specs {
			ecfg := cfg.Engine
			ecfg.KV = s
			ecfg.MaxWaiting = max(ecfg.MaxWaiting, cfg.Requests)
			run, info, err := throughputRun(ctx, m, ecfg, prompts, cfg.OutputLen, log)
			if err != nil {
				return rep, fmt.Errorf("bench: %s: %w", s, err)
			}
			rep.Threads, rep.KVMiB, rep.BlockSize, rep.KVBlocks = info.Threads, info.KVCacheMiB, info.BlockSize, info.blocks
			log.Info("throughput run", "policy", s.String(), "repeat", r, "output_tok_s", run.OutputTokS,
				"ttft_p50_s", run.TTFTP50S, "mean_batch", run.MeanBatch, "preemptions", run.Preemptions)
			rep.Results[i].Runs = append(rep.Results[i].Runs, run)
		}
	}
	for i := range rep.Results {
		rep.Results[i].ThroughputRun = medianRun(rep.Results[i].Runs)
	}
	return rep, nil
}

// engineInfo is what a run learned about the engine it used.
type engineInfo struct {
	engine.Config
	blocks int
}

// throughputRun submits every prompt at once to a new engine and waits for
// all of them to generate outLen tokens.
func throughputRun(ctx context.Context, m *model.Model, cfg engine.Config, prompts [][]int32, outLen int, log *slog.Logger) (ThroughputRun, engineInfo, error) {
	var run ThroughputRun
	e, err := engine.New(m, nil, cfg, log)
	if err != nil {
		return run, engineInfo{}, err
	}
	info := engineInfo{Config: e.Config(), blocks: e.Stats().KVBlocksTotal}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ttft := make([]float64, len(prompts))
	errs := make([]error, len(prompts))
	var wg sync.WaitGroup
	start := time.Now()
	for i, p := range prompts {
		ch, err := e.Submit(ctx, engine.Request{ID: fmt.Sprint(i), Prompt: p, MaxTokens: outLen, IgnoreEOS: true})
		if err != nil {
			cancel()
			wg.Wait()
			_ = e.Close(context.Background()) // the submit error is the one to report
			return run, info, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := 0
			for ev := range ch {
				if got == 0 && len(ev.Tokens) > 0 {
					ttft[i] = time.Since(start).Seconds()
				}
				got += len(ev.Tokens)
				if ev.Finish != "" && (ev.Finish != engine.FinishLength || got != outLen) {
					errs[i] = fmt.Errorf("request %d ended %q after %d of %d tokens: %v", i, ev.Finish, got, outLen, ev.Err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if err := e.Close(ctx); err != nil {
		return run, info, err
	}
	if err := ctx.Err(); err != nil {
		return run, info, err
	}
	for _, err := range errs {
		if err != nil {
			return run, info, err
		}
	}
	st := e.Stats()
	n := float64(len(prompts))
	run = ThroughputRun{
		ElapsedS:         elapsed,
		OutputTokS:       n * float64(outLen) / elapsed,
		TotalTokS:        n * float64(outLen+len(prompts[0])) / elapsed,
		TTFTP50S:         stats.Percentile(ttft, 50),
		TTFTP99S:         stats.Percentile(ttft, 99),
		PeakKVBlocks:     st.KVBlocksPeak,
		Preemptions:      st.Preemptions,
		RecomputedTokens: st.RecomputedTokens,
		EvictedTokens:    st.EvictedTokens,
	}
	if st.DecodeSteps > 0 {
		run.MeanBatch = float64(st.DecodeTokens) / float64(st.DecodeSteps)
	}
	return run, info, nil
}

// medianRun takes the median of every figure over runs separately.
func medianRun(runs []ThroughputRun) ThroughputRun {
	f := func(get func(ThroughputRun) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = get(r)
		}
		return stats.Median(xs)
	}
	return ThroughputRun{
		ElapsedS:         f(func(r ThroughputRun) float64 { return r.ElapsedS }),
		OutputTokS:       f(func(r ThroughputRun) float64 { return r.OutputTokS }),
		TotalTokS:        f(func(r ThroughputRun) float64 { return r.TotalTokS }),
		TTFTP50S:         f(func(r ThroughputRun) float64 { return r.TTFTP50S }),
		TTFTP99S:         f(func(r ThroughputRun) float64 { return r.TTFTP99S }),
		MeanBatch:        f(func(r ThroughputRun) float64 { return r.MeanBatch }),
		PeakKVBlocks:     int(f(func(r ThroughputRun) float64 { return float64(r.PeakKVBlocks) })),
		Preemptions:      int64(f(func(r ThroughputRun) float64 { return float64(r.Preemptions) })),
		RecomputedTokens: int64(f(func(r ThroughputRun) float64 { return float64(r.RecomputedTokens) })),
		EvictedTokens:    int64(f(func(r ThroughputRun) float64 { return float64(r.EvictedTokens) })),
	}
}
