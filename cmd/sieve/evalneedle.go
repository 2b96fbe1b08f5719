package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"sieve/eval"
)

func evalNeedle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sieve eval needle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("m", "", "model: a .gguf file, a llama2.c .bin checkpoint, or a Hugging Face directory")
	tokPath := fs.String("z", "", "tokenizer file (required for llama2.c checkpoints)")
	fillerPath := fs.String("filler", "", "filler sentences, one a line (default: generated sentences)")
	lengths := fs.String("lengths", "250,500,900", "comma-separated prompt lengths in tokens")
	depths := fs.String("depths", "0.1,0.3,0.5,0.7,0.9", "comma-separated needle depths in [0, 1]")
	samples := fs.Int("n", 4, "prompts per (length, depth)")
	seed := fs.Uint64("seed", 1, "seed of the prompts")
	kv := addEvalKVFlags(fs, "0.125,0.25,0.5", "each request (prompt and answer)")
	answer := fs.Int("answer", eval.DefaultAnswerTokens, "tokens of each greedy answer")
	out := fs.String("out", "", "directory to write the heatmap pictures needle.svg and needle.png to (empty: none)")
	threads := fs.Int("threads", runtime.NumCPU(), "worker threads")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		fmt.Fprintln(stderr, "sieve eval needle: -m MODEL is required")
		fs.Usage()
		return errUsage
	}
	cfg := eval.NeedleConfig{Samples: *samples, Seed: *seed, AnswerTokens: *answer, Threads: *threads, KV: kv.kvTypes()}
	var err error
	if cfg.Policies, cfg.Budgets, cfg.Spec, err = kv.parse(); err != nil {
		return err
	}
	for s := range strings.SplitSeq(*lengths, ",") {
		l, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--lengths: %q is not a whole number", s)
		}
		cfg.Lengths = append(cfg.Lengths, l)
	}
	for s := range strings.SplitSeq(*depths, ",") {
		d, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("--depths: %q is not a number", s)
		}
		cfg.Depths = append(cfg.Depths, d)
	}
	if *fillerPath != "" {
		data, err := os.ReadFile(*fillerPath)
		if err != nil {
			return err
		}
		cfg.Filler = strings.Split(string(data), "\n")
	}
	m, err := openModel(ctx, *modelPath, *tokPath, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	results, err := eval.Needles(ctx, m, cfg)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := eval.WriteNeedleHeatmap(*out, cfg, results); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Model   string              `json:"model"`
			Samples int                 `json:"samples"`
			Seed    uint64              `json:"seed"`
			Results []eval.NeedleResult `json:"results"`
		}{m.Name, cfg.Samples, cfg.Seed, results})
	}
	fmt.Fprintf(stdout, "model %s, needle retrieval, %d prompts per (length, depth) over %d depths, seed %d, greedy\n", m.Name, cfg.Samples, len(cfg.Depths), cfg.Seed)
	return eval.WriteNeedleTable(stdout, cfg.Lengths, results)
}
