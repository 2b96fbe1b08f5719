package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"sieve/eval"
	"sieve/internal/cli"
	"sieve/model"
	"sieve/tokenizer"
)

func evalPPL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve eval ppl", stderr)
	mf := addModelFlags(fs, "")
	textPath := fs.String("text", "", "text to score, tokenized whole with BOS")
	window := fs.Int("ctx", 0, "window length in tokens (0: the model's context length)")
	stride := fs.Int("stride", 0, "tokens between window starts; each window scores the tokens the previous one did not reach (0: half the window)")
	scoreAfter := fs.Int("score-after", 0, "leave the first N positions of every window unscored (llama.cpp's llama-perplexity: --stride equal to --ctx and N half of it)")
	chunks := fs.Int("chunks", 0, "score at most this many windows (0: all)")
	basePath := fs.String("base", "", "reference model whose dense logits the runs are compared with (a quantized file against its original; default: the model under full)")
	kv := addEvalKVFlags(fs, defaultEvalBudgets, "each window")
	threads := addThreadsFlag(fs)
	refKV := addRefKVFlag(fs)
	out := addEvalOutFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if mf.path == "" || *textPath == "" {
		fmt.Fprintln(stderr, "sieve eval ppl: -m MODEL and --text FILE are required")
		fs.Usage()
		return errUsage
	}
	if err := out.makeOutDir(); err != nil {
		return err
	}
	cfg := eval.DivergenceConfig{Threads: *threads, KV: kv.kvTypes(), RefKV: refKVTypes(*refKV)}
	var err error
	if cfg.Policies, cfg.Budgets, cfg.Spec, err = kv.parse(); err != nil {
		return err
	}
	text, err := os.ReadFile(*textPath)
	if err != nil {
		return err
	}
	m, err := mf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	if m.Tokenizer == nil {
		return fmt.Errorf("%s: the model has no tokenizer (-z)", mf.path)
	}
	if *basePath != "" {
		var base *model.Model
		if base, err = openModel(ctx, *basePath, mf.tokenizer, stderr); err != nil {
			return err
		}
		defer base.Close()
		cfg.Base = base
	}
	ws := eval.WindowSpec{Ctx: *window, Stride: *stride, ScoreAfter: *scoreAfter, MaxWindows: *chunks}
	if ws.Ctx == 0 {
		ws.Ctx = m.Config.ContextLen
	}
	if ws.Stride == 0 {
		ws.Stride = ws.Ctx / 2
	}
	tokens := m.Tokenizer.Encode(string(text), tokenizer.EncodeOptions{AddBOS: true})
	if cfg.Texts, cfg.From, err = eval.SlidingWindows(tokens, m.Tokenizer.BOS(), ws); err != nil {
		return err
	}
	results, err := eval.Divergence(ctx, m, cfg)
	if err != nil {
		return err
	}
	scored := 0
	if len(results) > 0 {
		scored = results[0].Positions
	}
	heading := fmt.Sprintf("model %s, %d tokens in %d windows of %d, stride %d, scored after %d: %d positions, teacher-forced through decode, %s KV%s",
		m.Name, len(tokens), len(cfg.Texts), ws.Ctx, ws.Stride, ws.ScoreAfter, scored, cfg.KV, refHeading(cfg))
	if cfg.Base != nil {
		heading += ", against " + cfg.Base.Name + " dense"
	}
	fields := map[string]any{"model": m.Name, "tokens": len(tokens), "windows": len(cfg.Texts), "ctx": ws.Ctx, "stride": ws.Stride, "score_after": ws.ScoreAfter, "results": results}
	return out.write(stdout, heading, eval.PPLSweep("ppl", results), fields)
}
