package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"sieve/eval"
	"sieve/internal/cli"
	"sieve/tokenizer"
)

// evalCommands are the subcommands of 'sieve eval'.
func evalCommands() []command {
	return []command{
		{name: "ppl", summary: "sliding-window perplexity (llama-perplexity's with --stride = --ctx)", run: evalPPL},
		{name: "divergence", summary: "perplexity, KL and agreement of KV policies against full", run: evalDivergence},
		{name: "needle", summary: "needle-in-a-haystack retrieval", run: evalNeedle},
		{name: "longbench", summary: "LongBench-format JSONL tasks", run: evalLongBench},
		{name: "ruler", summary: "RULER tasks: niah_single, niah_multikey, vt, cwe", run: evalRuler},
	}
}

func evalDivergence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve eval divergence", stderr)
	mf := addModelFlags(fs, "")
	textPath := fs.String("text", "", "text to score: documents separated by blank lines, each cut into context-length windows (shorter tails are dropped)")
	sampleSeed := fs.Uint64("sample-seed", 0, "instead of --text, score the model's own temperature-1 samples drawn with this seed (0: off)")
	samples := fs.Int("samples", 1, "number of context-length samples with --sample-seed")
	kv := addEvalKVFlags(fs, defaultEvalBudgets, "each scored sequence")
	greedyPrompt := fs.String("greedy-prompt", "Once upon a time", "prompt of the greedy agreement run (empty: skip it)")
	greedyTokens := fs.Int("greedy", eval.DefaultGreedyTokens, "tokens in the greedy agreement run")
	threads := addThreadsFlag(fs)
	refKV := addRefKVFlag(fs)
	out := addEvalOutFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if mf.path == "" || (*textPath == "") == (*sampleSeed == 0) {
		fmt.Fprintln(stderr, "sieve eval divergence: -m MODEL and exactly one of --text FILE and --sample-seed N are required")
		fs.Usage()
		return errUsage
	}
	if *greedyTokens < 0 || *samples < 1 {
		return fmt.Errorf("--greedy must be at least 0 and --samples at least 1")
	}
	if err := out.makeOutDir(); err != nil {
		return err
	}
	cfg := eval.DivergenceConfig{Threads: *threads, GreedyTokens: *greedyTokens, KV: kv.kvTypes(), RefKV: refKVTypes(*refKV)}
	var err error
	if cfg.Policies, cfg.Budgets, cfg.Spec, err = kv.parse(); err != nil {
		return err
	}
	m, err := mf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	ctxLen := m.Config.ContextLen
	if *textPath != "" {
		text, err := os.ReadFile(*textPath)
		if err != nil {
			return err
		}
		if cfg.Texts, err = eval.Windows(m.Tokenizer, string(text), ctxLen, ctxLen); err != nil {
			return err
		}
	} else {
		sc := eval.SampleConfig{Count: *samples, Seed: *sampleSeed, Threads: *threads}
		if cfg.Texts, err = eval.Sample(ctx, m, sc); err != nil {
			return err
		}
	}
	if *greedyPrompt != "" && *greedyTokens > 0 {
		cfg.GreedyPrompt = m.Tokenizer.Encode(*greedyPrompt, tokenizer.EncodeOptions{AddBOS: true})
	}
	results, err := eval.Divergence(ctx, m, cfg)
	if err != nil {
		return err
	}
	heading := fmt.Sprintf("model %s, context %d, %d text sequences, teacher-forced through decode, %s KV%s", m.Name, ctxLen, len(cfg.Texts), cfg.KV, refHeading(cfg))
	fields := map[string]any{"model": m.Name, "context": ctxLen, "texts": len(cfg.Texts), "kv_dtype": cfg.KV.String(), "ref_kv_dtype": refName(cfg), "results": results}
	return out.write(stdout, heading, eval.PPLSweep("divergence", results), fields)
}

// refName names the KV storage of a divergence's reference runs.
func refName(cfg eval.DivergenceConfig) string {
	if cfg.RefKV == (eval.KVTypes{}) {
		return cfg.KV.String()
	}
	return cfg.RefKV.String()
}

// refHeading says, for a heading, what full is when its KV storage is not
// the scored runs'.
func refHeading(cfg eval.DivergenceConfig) string {
	if refName(cfg) == cfg.KV.String() {
		return ""
	}
	return " against full with " + refName(cfg) + " KV"
}
