package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"sieve/eval"
	"sieve/internal/cli"
	"sieve/model"
)

func evalNeedle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve eval needle", stderr)
	mf := addModelFlags(fs, "")
	fillerPath := fs.String("filler", "", "filler sentences, one a line (default: generated sentences)")
	lengths := fs.String("lengths", "250,500,900", "comma-separated prompt lengths in tokens (with --turns, one: the first turn's, default 250)")
	turns := fs.Int("turns", 1, "conversation turns: turn 1 plants the fact and asks about another word, later turns add --turn-tokens of filler, and each turn's request is also asked for the fact (1: single prompts)")
	turnTokens := fs.Int("turn-tokens", 150, "with --turns, filler tokens each later turn adds")
	depths := fs.String("depths", "0.1,0.3,0.5,0.7,0.9", "comma-separated needle depths in [0, 1]")
	samples := fs.Int("n", 4, "prompts per (length, depth)")
	seed := fs.Uint64("seed", 1, "seed of the prompts")
	kv := addEvalKVFlags(fs, "0.125,0.25,0.5", "each request (prompt and answer)")
	answer := fs.Int("answer", eval.DefaultAnswerTokens, "tokens of each greedy answer")
	out := fs.String("out", "", "directory (created when missing) to write the heatmap pictures needle.svg and needle.png to (empty: none)")
	threads := addThreadsFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if mf.path == "" {
		fmt.Fprintln(stderr, "sieve eval needle: -m MODEL is required")
		fs.Usage()
		return errUsage
	}
	if err := makeOutDir(*out); err != nil {
		return err
	}
	if *turns > 1 && !flagSet(fs, "lengths") {
		*lengths = "250"
	}
	cfg := eval.NeedleConfig{Samples: *samples, Seed: *seed, AnswerTokens: *answer, Threads: *threads, Turns: *turns, TurnTokens: *turnTokens, KV: kv.kvTypes()}
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
	m, err := mf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	if *turns > 1 {
		return multiTurnNeedles(ctx, m, cfg, *out, *asJSON, stdout)
	}
	results, err := eval.Needles(ctx, m, cfg)
	if err != nil {
		return err
	}
	if err := printNeedles(stdout, m.Name, cfg, results, *asJSON); err != nil || *out == "" {
		return err
	}
	return eval.WriteNeedleHeatmap(*out, cfg, results)
}

// printNeedles prints the needle results as JSON or as a table.
func printNeedles(stdout io.Writer, model string, cfg eval.NeedleConfig, results []eval.NeedleResult, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Model   string              `json:"model"`
			Samples int                 `json:"samples"`
			Seed    uint64              `json:"seed"`
			Results []eval.NeedleResult `json:"results"`
		}{model, cfg.Samples, cfg.Seed, results})
	}
	fmt.Fprintf(stdout, "model %s, needle retrieval, %d prompts per (length, depth) over %d depths, seed %d, greedy\n", model, cfg.Samples, len(cfg.Depths), cfg.Seed)
	return eval.WriteNeedleTable(stdout, cfg.Lengths, results)
}

// multiTurnNeedles runs and reports 'sieve eval needle --turns'.
func multiTurnNeedles(ctx context.Context, m *model.Model, cfg eval.NeedleConfig, out string, asJSON bool, stdout io.Writer) error {
	results, err := eval.MultiTurnNeedles(ctx, m, cfg)
	if err != nil {
		return err
	}
	if out != "" {
		if err := eval.WriteMultiTurnNeedleHeatmap(out, cfg, results); err != nil {
			return err
		}
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Model      string              `json:"model"`
			Samples    int                 `json:"samples"`
			Seed       uint64              `json:"seed"`
			Turns      int                 `json:"turns"`
			FirstTurn  int                 `json:"first_turn_tokens"`
			TurnTokens int                 `json:"turn_tokens"`
			Results    []eval.NeedleResult `json:"results"`
		}{m.Name, cfg.Samples, cfg.Seed, cfg.Turns, cfg.Lengths[0], cfg.TurnTokens, results})
	}
	fmt.Fprintf(stdout, "model %s, multi-turn needle retrieval, %d conversations per depth over %d depths, %d turns (first ~%d tokens, then ~%d a turn), seed %d, greedy\n",
		m.Name, cfg.Samples, len(cfg.Depths), cfg.Turns, cfg.Lengths[0], cfg.TurnTokens, cfg.Seed)
	if err := eval.WriteMultiTurnNeedleTable(stdout, cfg.Turns, results); err != nil {
		return err
	}
	fmt.Fprint(stdout, "answers to turn 1's question about another word that gave the fact's number:")
	for _, r := range results {
		fmt.Fprintf(stdout, " %s", r.Policy)
		if r.Budget != 0 {
			fmt.Fprintf(stdout, "@%v", r.Budget)
		}
		fmt.Fprintf(stdout, " %d/%d;", r.DistractorLeaks, cfg.Samples*len(cfg.Depths))
	}
	_, err = fmt.Fprintln(stdout)
	return err
}
