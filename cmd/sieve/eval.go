package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"sieve/eval"
	"sieve/sparsity"
	"sieve/tokenizer"
)

func evalCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "divergence":
		return evalDivergence(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "needle":
		return evalNeedle(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "ppl":
		return evalPPL(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "longbench":
		return evalLongBench(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "ruler":
		return evalRuler(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, "usage: sieve eval divergence -m MODEL [-z TOKENIZER] (--text FILE | --sample-seed N) [flags]")
	fmt.Fprintln(stderr, "       sieve eval needle -m MODEL [-z TOKENIZER] [--filler FILE] [flags]")
	fmt.Fprintln(stderr, "       sieve eval ppl -m MODEL [-z TOKENIZER] --text FILE [--ctx N] [--stride N] [--score-after N] [flags]")
	fmt.Fprintln(stderr, "       sieve eval longbench -m MODEL [-z TOKENIZER] --data FILE.jsonl [flags]")
	fmt.Fprintln(stderr, "       sieve eval ruler -m MODEL [-z TOKENIZER] [--tasks niah_single,niah_multikey,vt,cwe] [--lengths 250,500,900] [flags]")
	return errUsage
}

func evalDivergence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sieve eval divergence", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("m", "", "model: a .gguf file, a llama2.c .bin checkpoint, or a Hugging Face directory")
	tokPath := fs.String("z", "", "tokenizer file (required for llama2.c checkpoints)")
	textPath := fs.String("text", "", "text to score: documents separated by blank lines, each cut into context-length windows (shorter tails are dropped)")
	sampleSeed := fs.Uint64("sample-seed", 0, "instead of --text, score the model's own temperature-1 samples drawn with this seed (0: off)")
	samples := fs.Int("samples", 1, "number of context-length samples with --sample-seed")
	kv := addEvalKVFlags(fs, defaultEvalBudgets, "each scored sequence")
	sinkTokens := fs.String("sink-tokens", "", "comma-separated token ids kept like sinks wherever they sit, under every policy (content-aware sinks)")
	greedyPrompt := fs.String("greedy-prompt", "Once upon a time", "prompt of the greedy agreement run (empty: skip it)")
	greedyTokens := fs.Int("greedy", eval.DefaultGreedyTokens, "tokens in the greedy agreement run")
	threads := fs.Int("threads", runtime.NumCPU(), "worker threads")
	refKV := addRefKVFlag(fs)
	out := addEvalOutFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || (*textPath == "") == (*sampleSeed == 0) {
		fmt.Fprintln(stderr, "sieve eval divergence: -m MODEL and exactly one of --text FILE and --sample-seed N are required")
		fs.Usage()
		return errUsage
	}
	if *greedyTokens < 0 || *samples < 1 {
		return fmt.Errorf("--greedy must be at least 0 and --samples at least 1")
	}
	cfg := eval.DivergenceConfig{Threads: *threads, GreedyTokens: *greedyTokens, KV: kv.kvTypes(), RefKV: refKVTypes(*refKV)}
	var spec sparsity.Spec
	var err error
	if cfg.Policies, cfg.Budgets, spec, err = kv.parse(); err != nil {
		return err
	}
	if spec.SinkTokens, err = sparsity.ParseSinkTokens(*sinkTokens); err != nil {
		return err
	}

	m, err := openModel(ctx, *modelPath, *tokPath, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg.Spec = spec
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
