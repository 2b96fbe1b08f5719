package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"sieve/model"
	"sieve/model/demo"
	"sieve/model/hub"
	"sieve/model/load"
)

// demoModel is the -m value that selects the model built into the binary
// (a local file of that name is still reachable as ./demo).
const demoModel = "demo"

// defaultModel is what run and serve use without -m: SmolLM2-135M-Instruct
// (Llama architecture, 135M parameters, Apache-2.0), Q8_0, from its
// authors' own GGUF repository on the hub,
// huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct-GGUF (about 145 MB).
const defaultModel = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF:smollm2-135m-instruct-q8_0.gguf"

// modelFlagHelp is the help text of every -m flag.
const modelFlagHelp = "model: a .gguf file, a llama2.c .bin checkpoint, a Hugging Face directory, " +
	"hf://ORG/NAME[/FILE] (pulled into the cache on first use), or \"demo\" (the built-in stories260K)"

// openModel loads the model that a -m value names, with tokPath (when not
// empty) overriding its tokenizer; an empty spec picks the default model.
func openModel(ctx context.Context, spec, tokPath string, stderr io.Writer) (*model.Model, error) {
	path, err := resolveModel(ctx, spec, tokPath, stderr)
	if err != nil {
		return nil, err
	}
	return loadModel(path, tokPath)
}

// resolveModel turns a -m value into what loadModel opens: a local path, or
// demoModel. hf:// references are looked up in the cache and pulled when
// missing; an empty spec is the default model, or the demo when that
// cannot be had.
func resolveModel(ctx context.Context, spec, tokPath string, stderr io.Writer) (string, error) {
	switch {
	case spec == "":
		return resolveDefault(ctx, tokPath, stderr)
	case hub.IsURI(spec):
		ref, err := hub.ParseRef(spec)
		if err != nil {
			return "", err
		}
		return cachedOrPulled(ctx, ref, stderr)
	}
	return spec, nil
}

// cachedOrPulled returns the cached copy of ref, pulling it first when the
// cache has none.
func cachedOrPulled(ctx context.Context, ref hub.Ref, stderr io.Writer) (string, error) {
	c, err := newHubClient(stderr)
	if err != nil {
		return "", err
	}
	if path, err := c.Cache.Lookup(ref); err == nil {
		return path, nil
	}
	return c.Pull(ctx, ref)
}

// resolveDefault finds the default model, pulling it on first use, and
// checks that it loads; where it cannot be had it says so in one line and
// picks the built-in demo.
func resolveDefault(ctx context.Context, tokPath string, stderr io.Writer) (string, error) {
	ref, err := hub.ParseRef(defaultModel)
	if err != nil {
		return "", err
	}
	path, err := cachedOrPulled(ctx, ref, stderr)
	if err == nil {
		var m *model.Model
		if m, err = load.Open(path, tokPath); err == nil {
			m.Close()
			return path, nil
		}
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	reason := fmt.Sprintf("the default model %s is not available (%v)", ref, err)
	if errors.Is(err, hub.ErrUnreachable) {
		reason = fmt.Sprintf("the Hugging Face hub cannot be reached to pull the default model %s", ref)
	}
	fmt.Fprintf(stderr, "sieve: %s; using the built-in demo model %s\n", reason, demo.Name)
	return demoModel, nil
}

// loadModel opens a resolved model: the built-in demo, or a local path.
func loadModel(path, tokPath string) (*model.Model, error) {
	if path == demoModel {
		return demo.Open(tokPath)
	}
	return load.Open(path, tokPath)
}
