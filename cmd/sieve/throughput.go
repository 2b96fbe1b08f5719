package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"sieve/bench"
	"sieve/engine"
	"sieve/internal/cli"
	"sieve/sparsity"
)

// benchThroughput runs 'sieve bench throughput': offline serving
// throughput of the engine under one or more KV policies.
func benchThroughput(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve bench throughput", stderr)
	mf := addModelFlags(fs, "")
	requests := fs.Int("num-prompts", 16, "requests, all submitted at once")
	inputLen := fs.Int("input-len", 512, "random prompt tokens per request")
	outputLen := fs.Int("output-len", 512, "tokens each request generates (EOS ignored)")
	var kv engine.KVFlags
	kv.AddCache(fs)
	kv.AddSpec(fs, "prompt + output")
	compare := fs.String("compare", "", "comma-separated policies to run side by side (overrides --kv-policy); full runs without a budget")
	threads := addThreadsFlag(fs)
	maxSeqs := fs.Int("max-num-seqs", 0, "most sequences running at once (0: the engine's default)")
	maxBatch := fs.Int("max-num-batched-tokens", 0, "most tokens per forward pass (0: the engine's default)")
	chunk := fs.Int("prefill-chunk", 0, "prefill chunk size (0: the engine's default)")
	repeats := fs.Int("repeats", 1, "runs per policy, interleaved across policies; medians are reported")
	seed := fs.Uint64("seed", 1, "seed of the random prompts")
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("v", false, "log each run and the engines' setup")
	cli.Alias(fs, "num-prompts", "requests")
	cli.Alias(fs, "max-num-seqs", "max-seqs")
	cli.Alias(fs, "max-num-batched-tokens", "max-batch-tokens")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if mf.path == "" {
		fmt.Fprintln(stderr, "sieve bench throughput: -m MODEL is required")
		return errUsage
	}
	specs, err := throughputSpecs(kv, *compare)
	if err != nil {
		return err
	}
	m, err := mf.open(ctx, stderr)
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
		Engine: engine.Config{Threads: *threads, KVCacheMiB: kv.CacheMiB, KVDType: kv.DType, MaxSeqs: *maxSeqs,
			KVKeyDType: kv.KeyDType, KVValueDType: kv.ValueDType, MaxBatchTokens: *maxBatch, PrefillChunk: *chunk, DisablePrefixCaching: kv.NoPrefixCaching},
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

// throughputSpecs returns the policy of the KV flags, or with compare
// (comma-separated policies) one spec per policy: each gets the flags'
// budget and sink tokens, except that full gets no budget and only layered
// gets the profile.
func throughputSpecs(kv engine.KVFlags, compare string) ([]sparsity.Spec, error) {
	if compare == "" {
		s, err := kv.Spec()
		return []sparsity.Spec{s}, err
	}
	var specs []sparsity.Spec
	for n := range strings.SplitSeq(compare, ",") {
		p, err := sparsity.ParsePolicy(n)
		if err != nil {
			return nil, err
		}
		f := kv
		f.Policy = string(p)
		if p == sparsity.Full {
			f.Budget = 0
		}
		if p != sparsity.Layered {
			f.Profile = ""
		}
		s, err := f.Spec()
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, nil
}
