package main

import (
	"context"
	"flag"
	"io"
	"runtime"

	"sieve/internal/cli"
	"sieve/model"
)

// modelFlags are the model flags of every command that loads a model:
// -m/--model, which takes whatever openModel does (a file, a directory,
// hf://, demo), and -z/--tokenizer.
type modelFlags struct {
	path      string
	tokenizer string
}

// addModelFlags registers the model flags on fs; whenEmpty says what an
// empty -m picks ("" when the command requires -m).
func addModelFlags(fs *flag.FlagSet, whenEmpty string) *modelFlags {
	f := &modelFlags{}
	help := modelFlagHelp
	if whenEmpty != "" {
		help += " (default: " + whenEmpty + ")"
	}
	fs.StringVar(&f.path, "m", "", help)
	fs.StringVar(&f.tokenizer, "z", "", "tokenizer `file` overriding the model's (required for llama2.c checkpoints)")
	cli.Alias(fs, "m", "model")
	cli.Alias(fs, "z", "tokenizer")
	return f
}

// open loads the model the flags name (see openModel).
func (f *modelFlags) open(ctx context.Context, stderr io.Writer) (*model.Model, error) {
	return openModel(ctx, f.path, f.tokenizer, stderr)
}

// addThreadsFlag registers --threads and its llama.cpp name -t on fs.
func addThreadsFlag(fs *flag.FlagSet) *int {
	threads := fs.Int("threads", runtime.NumCPU(), "kernel worker threads")
	cli.Alias(fs, "threads", "t")
	return threads
}
