package eval

import (
	"context"
	"os"
	"strconv"
	"testing"

	"sieve/model"
	"sieve/model/load"
	"sieve/tokenizer"
)

// TestChunkPerplexity computes a model's perplexity the way llama.cpp's
// llama-perplexity does, so that the two can be compared on the same file
// and text (docs/quantization.md has the commands): the text, tokenized
// with BOS, is cut into chunks of SIEVE_PPL_CTX tokens (default 128), each
// chunk starts with BOS in place of its first token, and the second half of
// each chunk is scored. With SIEVE_PPL_BASE set to another model file (the
// F32 original), it also reports the mean KL divergence of the model's
// next-token distributions from the base model's and how often their top
// tokens agree, as llama-perplexity --kl-divergence does. It is sieve eval
// ppl --ctx N --stride N --score-after N/2 --policies full [--base F32]
// (the same code) with llama-perplexity's defaults, kept as a test for
// quantization work. It runs only
// when SIEVE_PPL_MODEL names a model; SIEVE_PPL_TEXT is the text (default
// testdata/stories.txt) and SIEVE_PPL_CHUNKS caps the chunks.
func TestChunkPerplexity(t *testing.T) {
	path := os.Getenv("SIEVE_PPL_MODEL")
	if path == "" {
		t.Skip("SIEVE_PPL_MODEL not set")
	}
	nctx, chunks := envInt(t, "SIEVE_PPL_CTX", 128), envInt(t, "SIEVE_PPL_CHUNKS", 1<<30)
	textPath := os.Getenv("SIEVE_PPL_TEXT")
	if textPath == "" {
		textPath = "testdata/stories.txt"
	}
	text, err := os.ReadFile(textPath)
	if err != nil {
		t.Fatal(err)
	}
	m := openModel(t, path)
	tokens := m.Tokenizer.Encode(string(text), tokenizer.EncodeOptions{AddBOS: true})
	seqs, from, err := SlidingWindows(tokens, m.Tokenizer.BOS(), WindowSpec{Ctx: nctx, Stride: nctx, ScoreAfter: nctx / 2, MaxWindows: chunks})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d tokens, %d chunks of %d, weights %v", path, len(tokens), len(seqs), nctx, m.Weights.Layers[0].W1.Type)
	cfg := DivergenceConfig{Texts: seqs, From: from, Policies: []string{"full"}, Budgets: []float64{1}, Threads: 2}
	basePath := os.Getenv("SIEVE_PPL_BASE")
	if basePath != "" {
		cfg.Base = openModel(t, basePath)
	}
	res, err := Divergence(context.Background(), m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	t.Logf("PPL = %.4f over %d tokens", r.PPL, r.Positions)
	if basePath != "" {
		t.Logf("Mean KLD = %.6f, same top = %.2f%% against %s (PPL %.4f)", r.KL, 100*r.Top1Agreement, basePath, r.PPLFull)
	}
}

// envInt returns the positive integer in the environment variable, or def.
func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// openModel loads a model file, closed when the test ends.
func openModel(t *testing.T, path string) *model.Model {
	t.Helper()
	m, err := load.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
