package main

import (
	"context"
	"fmt"
	"io"

	"sieve/model"
	"sieve/model/demo"
	"sieve/model/load"
)

// demoModel is the -m value that selects the model built into the binary
// (a local file of that name is still reachable as ./demo).
const demoModel = "demo"

// modelFlagHelp is the help text of every -m flag.
const modelFlagHelp = "model: a .gguf file, a llama2.c .bin checkpoint, a Hugging Face directory, " +
	"or \"demo\" for the built-in stories260K"

// openModel loads the model that a -m value names, with tokPath (when not
// empty) overriding its tokenizer; an empty spec picks the default model.
func openModel(ctx context.Context, spec, tokPath string, stderr io.Writer) (*model.Model, error) {
	path, err := resolveModel(ctx, spec, stderr)
	if err != nil {
		return nil, err
	}
	return loadModel(path, tokPath)
}

// resolveModel turns a -m value into what loadModel opens: a local path, or
// demoModel.
func resolveModel(_ context.Context, spec string, stderr io.Writer) (string, error) {
	if spec == "" {
		fmt.Fprintf(stderr, "sieve: no -m given; using the built-in demo model %s\n", demo.Name)
		return demoModel, nil
	}
	return spec, nil
}

// loadModel opens a resolved model: the built-in demo, or a local path.
func loadModel(path, tokPath string) (*model.Model, error) {
	if path == demoModel {
		return demo.Open(tokPath)
	}
	return load.Open(path, tokPath)
}
