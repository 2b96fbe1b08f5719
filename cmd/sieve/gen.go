package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"sieve/internal/cli"
	"sieve/kernels"
	"sieve/model/synth"
	"sieve/tokenizer"
)

func genCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve gen", stderr)
	shapeName := fs.String("shape", "tiny", "model shape: "+strings.Join(synth.ShapeNames(), ", "))
	out := fs.String("o", "", "output .gguf file")
	typ := fs.String("type", "f16", "weight type: f32, f16, bf16 or q8_0")
	seed := fs.Uint64("seed", 1, "random seed")
	vocabPath := fs.String("vocab", "", "vocabulary: a SentencePiece tokenizer.model, llama2.c tokenizer.bin, tokenizer.json or .gguf (default: a built-in 259-token byte vocabulary)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "sieve gen: -o FILE is required")
		return errUsage
	}
	shape, ok := synth.LookupShape(*shapeName)
	if !ok {
		return fmt.Errorf("unknown shape %q (have %s)", *shapeName, strings.Join(synth.ShapeNames(), ", "))
	}
	dt, err := parseDType(*typ)
	if err != nil {
		return err
	}
	var vocab *tokenizer.Vocab
	if *vocabPath == "" {
		vocab = synth.ByteVocab()
	} else if vocab, err = synth.ReadVocab(*vocabPath); err != nil {
		return err
	}
	start := time.Now()
	if err := synth.Write(*out, shape, dt, *seed, vocab); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%s, %s, %d tokens) in %s\n", *out, *shapeName, dt, len(vocab.Tokens), time.Since(start).Round(time.Millisecond))
	return nil
}

func parseDType(s string) (kernels.DType, error) {
	for _, t := range []kernels.DType{kernels.F32, kernels.F16, kernels.BF16, kernels.Q8_0} {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown type %q (want f32, f16, bf16 or q8_0)", s)
}
