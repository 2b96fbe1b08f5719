package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"sieve/bench"
	"sieve/engine"
	"sieve/internal/cli"
	"sieve/kernels"
	"sieve/model"
	"sieve/sparsity"
)

// benchCommands are the subcommands of 'sieve bench'.
func benchCommands() []command {
	return []command{
		{name: "decode", summary: "prefill and decode tok/s of one batch (llama-bench's -p/-n/-r/-d)", run: benchDecode},
		{name: "throughput", summary: "offline serving throughput of the engine under KV policies", run: benchThroughput},
		{name: "serve", summary: "serving benchmark against an OpenAI-compatible endpoint", run: benchServe},
		{name: "soak", summary: "mixed, partly hostile traffic against a server, then a drain check", run: benchSoak},
	}
}

func benchDecode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve bench decode", stderr)
	mf := addModelFlags(fs, "")
	threads := addThreadsFlag(fs)
	prompt := fs.Int("prompt", 512, "tokens in the timed prefill (0 skips it)")
	gen := fs.Int("gen", 128, "decode steps in the timed decode run (0 skips it)")
	depth := fs.Int("depth", 0, "context tokens filled before each timed run")
	batch := fs.Int("batch", 1, "sequences decoded together")
	repeats := fs.Int("repeats", 5, "repetitions; medians are reported")
	chunk := fs.Int("prefill-chunk", 512, "prefill chunk size")
	// llama-bench's names: -p, -n, -r and -d.
	cli.Alias(fs, "prompt", "p")
	cli.Alias(fs, "gen", "n")
	cli.Alias(fs, "repeats", "r")
	cli.Alias(fs, "depth", "d")
	cli.Alias(fs, "prefill-chunk", "chunk")
	kvType := fs.String("kv-cache-dtype", "f16", "KV cache storage: "+engine.KVDTypeNames()+" (paged), or dense (contiguous f32 reference)")
	fs.StringVar(kvType, "kv-dtype", "f16", "alias of --kv-cache-dtype")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the benchmark to this file")
	var kv engine.KVFlags
	kv.AddSpec(fs, "depth + max(prompt, gen)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if mf.path == "" {
		fmt.Fprintln(stderr, "sieve bench decode: -m MODEL is required")
		return errUsage
	}
	m, err := mf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	var caches bench.CacheFactory
	if *kvType == "dense" {
		caches = bench.DenseCaches(m.Config, pool)
	} else {
		dt, err := engine.ParseKVDType(*kvType)
		if err != nil {
			return fmt.Errorf("--kv-cache-dtype: %w, or dense", err)
		}
		caches = bench.PagedCaches(m.Config, pool, dt)
	}
	if caches, err = decodeCaches(kv, m.Config, pool, *kvType, caches); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg := bench.DecodeConfig{Prompt: *prompt, Gen: *gen, Depth: *depth, Batch: *batch, Repeats: *repeats, Chunk: *chunk, Seed: 1}
	res, err := bench.Decode(ctx, m, pool, cfg, caches)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Model   string `json:"model"`
			Threads int    `json:"threads"`
			Kernels string `json:"kernels"`
			bench.DecodeConfig
			KVDType string `json:"kv_dtype"`
			bench.DecodeResult
		}{m.Name, *threads, kernels.Implementation(), cfg, *kvType, res})
	}
	fmt.Fprintf(stdout, "model %s, %d threads, %s kernels, depth %d, batch %d, kv %s, %d repeats (medians)\n",
		m.Name, *threads, kernels.Implementation(), *depth, *batch, *kvType, *repeats)
	if *prompt > 0 {
		fmt.Fprintf(stdout, "prefill %4d tokens: %8.1f tok/s\n", *prompt, res.PrefillTokS)
	}
	if *gen > 0 {
		fmt.Fprintf(stdout, "decode  %4d steps:  %8.1f tok/s\n", *gen, res.DecodeTokS)
	}
	return nil
}

// decodeCaches returns caches unchanged under full, or else paged caches of
// storage kvType that evict under the policy of the KV flags (not snapkv,
// and without sink tokens: the benchmark's tokens are random).
func decodeCaches(kv engine.KVFlags, c model.Config, pool *kernels.Pool, kvType string, caches bench.CacheFactory) (bench.CacheFactory, error) {
	spec, err := kv.Spec()
	if err != nil || spec.Policy == sparsity.Full {
		return caches, err
	}
	if spec.SinkTokens != nil {
		return nil, fmt.Errorf("--kv-sink-tokens: the decode benchmark's tokens are random; it keeps no sink tokens")
	}
	if kvType == "dense" {
		return nil, fmt.Errorf("--kv-policy %s needs a paged cache (--kv-cache-dtype other than dense)", spec.Policy)
	}
	dt, err := engine.ParseKVDType(kvType)
	if err != nil {
		return nil, err
	}
	return bench.SparseCaches(c, pool, dt, spec), nil
}
