package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"sieve/engine"
	"sieve/internal/cli"
	"sieve/kernels"
	"sieve/llama"
	"sieve/tokenizer"
)

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWithInput(ctx, args, os.Stdin, stdout, stderr)
}

// runWithInput is 'sieve run' reading a missing prompt from stdin, unless
// stdin is a terminal.
func runWithInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve run", stderr)
	mf := addModelFlags(fs, "SmolLM2-135M-Instruct from the hub, or the demo offline")
	prompt := fs.String("p", "", "prompt (default: the text piped on stdin)")
	maxNew := fs.Int("n", 256, "maximum number of new tokens")
	ctxSize := fs.Int("c", 0, "context size: prompt and new tokens together (0: the model's)")
	temp := fs.Float64("temp", 0.8, "sampling temperature; 0 is greedy")
	topP := fs.Float64("top-p", 0.9, "nucleus sampling threshold (1 disables)")
	topK := fs.Int("top-k", 0, "keep only the K most likely tokens (0 disables)")
	minP := fs.Float64("min-p", 0, "drop tokens below this fraction of the top probability")
	repPen := fs.Float64("repeat-penalty", 1, "repetition penalty (1 disables)")
	seed := fs.Uint64("seed", 0, "random seed (0 picks one from the clock)")
	threads := addThreadsFlag(fs)
	parseSpecial := fs.Bool("special", false, "parse special-token text (e.g. <|eot_id|>) in the prompt")
	cli.Alias(fs, "p", "prompt")
	cli.Alias(fs, "n", "n-predict", "max-tokens")
	cli.Alias(fs, "c", "ctx-size")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *maxNew < 0 || *ctxSize < 0 {
		return fmt.Errorf("-n must be at least 0, got %d, and -c at least 0, got %d", *maxNew, *ctxSize)
	}
	if !cli.Given(fs, "p") {
		text, err := readPrompt(stdin)
		if err != nil {
			return err
		}
		*prompt = text
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	start := time.Now()
	m, err := mf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	c := m.Config
	log.Info("model loaded", "name", m.Name, "format", m.Format, "layers", c.Layers, "dim", c.Dim,
		"heads", c.Heads, "kv_heads", c.KVHeads, "vocab", c.VocabSize, "context", c.ContextLen,
		"elapsed", time.Since(start).Round(time.Millisecond))

	tok := m.Tokenizer
	ids := tok.Encode(*prompt, tokenizer.EncodeOptions{AddBOS: true, ParseSpecial: *parseSpecial})
	if len(ids) == 0 {
		return fmt.Errorf("the prompt encodes to no tokens and the model has no BOS token")
	}
	limit := c.ContextLen
	if *ctxSize > 0 {
		limit = min(limit, *ctxSize)
	}
	if len(ids) >= limit {
		return fmt.Errorf("prompt is %d tokens; the context is %d", len(ids), limit)
	}
	*maxNew = min(*maxNew, limit-len(ids))
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	params := engine.SamplingParams{
		Temperature: float32(*temp), TopP: float32(*topP), TopK: *topK, MinP: float32(*minP),
		RepetitionPenalty: float32(*repPen), Seed: *seed,
	}
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	ctxLen := len(ids) + *maxNew
	runner := llama.NewRunner(m, pool, min(len(ids), 512))
	cache := llama.NewDenseCache(c, pool, 1, ctxLen)
	sampler := engine.NewSampler(params, c.VocabSize)
	sampler.Prompt(ids)

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	prev := int32(-1)
	for _, id := range ids {
		out.Write(tok.Piece(prev, id))
		prev = id
	}
	out.Flush()
	stops := tok.StopTokens()
	generated := 0
	var first time.Time
	genStart := time.Now()
	err = runner.Generate(ctx, cache, ids, *maxNew,
		func(logits []float32) int32 { return sampler.Sample(logits) },
		func(id int32) bool {
			if generated == 0 {
				first = time.Now()
			}
			if slices.Contains(stops, id) {
				return false
			}
			generated++
			sampler.Accept(id)
			out.Write(tok.Piece(prev, id))
			out.Flush()
			prev = id
			return true
		})
	fmt.Fprintln(out)
	if err != nil {
		return err
	}
	if generated > 1 {
		dec := time.Since(first).Seconds()
		log.Info("done", "prompt_tokens", len(ids), "generated", generated,
			"prefill_s", first.Sub(genStart).Seconds(), "decode_tok_s", float64(generated-1)/dec)
	}
	return nil
}

// errNoPrompt is the error of 'sieve run' without -p and without text on
// stdin.
var errNoPrompt = errors.New("no prompt: pass -p TEXT, or pipe the prompt on stdin")

// readPrompt reads the prompt from stdin, which must not be a terminal
// and must hold some text; one final newline is dropped.
func readPrompt(stdin io.Reader) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		return "", errNoPrompt
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		return "", fmt.Errorf("reading the prompt from stdin: %w", err)
	}
	text := strings.TrimSuffix(string(data), "\n") // echo's newline ends the input, not the prompt
	if text == "" {
		return "", errNoPrompt
	}
	return text, nil
}
