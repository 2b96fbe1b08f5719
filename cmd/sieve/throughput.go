package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"

	"sieve/bench"
	"sieve/engine"
	"sieve/sparsity"
)

// benchThroughput runs 'sieve bench throughput': offline serving
// throughput of the engine under one or more KV policies.
func benchThroughput(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sieve bench throughput", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("m", "", "model file")
	requests := fs.Int("requests", 16, "requests, all submitted at once")
	inputLen := fs.Int("input-len", 512, "random prompt tokens per request")
	outputLen := fs.Int("output-len", 512, "tokens each request generates (EOS ignored)")
	kvMiB := fs.Int("kv-cache-size", 0, "KV pool size in MiB (0: the engine's default)")
	kvType := fs.String("kv-dtype", "f16", "KV storage: f16 or f32")
	policy := fs.String("kv-policy", "full", "KV eviction policy")
	budget := fs.String("kv-budget", "", "KV budget per layer: tokens, or a fraction of prompt + output below 1")
	profile := fs.String("profile", "", "per-layer budget profile (JSON) for the layered policy")
	compare := fs.String("compare", "", "comma-separated policies to run side by side (overrides --kv-policy); full runs without a budget")
	threads := fs.Int("threads", runtime.NumCPU(), "worker threads")
	maxSeqs := fs.Int("max-seqs", 0, "most sequences running at once (0: the engine's default)")
	maxBatch := fs.Int("max-batch-tokens", 0, "most tokens per forward pass (0: the engine's default)")
	chunk := fs.Int("prefill-chunk", 0, "prefill chunk size (0: the engine's default)")
	repeats := fs.Int("repeats", 1, "runs per policy, interleaved across policies; medians are reported")
	seed := fs.Uint64("seed", 1, "seed of the random prompts")
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("v", false, "log each run and the engines' setup")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		fmt.Fprintln(stderr, "sieve bench throughput: -m MODEL is required")
		return errUsage
	}
	b, err := sparsity.ParseBudget(*budget)
	if err != nil {
		return err
	}
	names := []string{*policy}
	if *compare != "" {
		names = strings.Split(*compare, ",")
	}
	specs, err := throughputSpecs(names, b, *profile)
	if err != nil {
		return err
	}
	m, err := openModel(ctx, *modelPath, "", stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := bench.ThroughputConfig{
		Requests: *requests, InputLen: *inputLen, OutputLen: *outputLen, Repeats: *repeats, Seed: *seed,
		Engine: engine.Config{Threads: *threads, KVCacheMiB: *kvMiB, KVDType: *kvType, MaxSeqs: *maxSeqs,
			MaxBatchTokens: *maxBatch, PrefillChunk: *chunk},
	}
	rep, err := bench.Throughput(ctx, m, cfg, specs, log)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	return bench.WriteThroughputTable(stdout, rep)
}

// throughputSpecs parses the policies to compare: each gets the budget
// except full, and layered gets the profile.
func throughputSpecs(names []string, budget float64, profile string) ([]sparsity.Spec, error) {
	var specs []sparsity.Spec
	for _, n := range names {
		p, err := sparsity.ParsePolicy(n)
		if err != nil {
			return nil, err
		}
		b, prof := budget, ""
		if p == sparsity.Full {
			b = 0
		}
		if p == sparsity.Layered {
			prof = profile
		}
		s, err := sparsity.ParseSpec(string(p), b, prof)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, nil
}
