package eval

import (
	"context"
	"math"
	"os"
	"strconv"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model"
	"sieve/model/load"
	"sieve/tokenizer"
)

// TestChunkPerplexity computes a model's perplexity the way llama.cpp's
// llama-perplexity does, so that the two can be compared on the same file
// and text (docs/quantization.md has the commands): the text, tokenized
// with BOS, is cut into chunks of SIEVE_PPL_CTX tokens (default 128), each
// chunk starts with BOS in place of its first token, and the second half of
// each chunk is scored. It is sieve eval ppl --ctx N --stride N
// --score-after N/2 --policies full [--base F32] (the same code) with
// llama-perplexity's defaults.
//
// The model is SIEVE_PPL_MODEL, or stories260K.gguf from the test models;
// SIEVE_PPL_TEXT is the text (default testdata/stories.txt) and
// SIEVE_PPL_CHUNKS caps the chunks. The test checks the scored positions
// and that the perplexity is exp(mean NLL) of the same chunks run through
// the dense reference cache (densePPLFrom); with SIEVE_PPL_WANT set to
// llama-perplexity's "Mean PPL(Q)" it also checks agreement within
// SIEVE_PPL_TOL (relative, default 0.002). With SIEVE_PPL_BASE set to
// another model file (the F32 original) it checks the mean KL divergence
// from the base model's next-token distributions and the top-token
// agreement, as llama-perplexity --kl-divergence reports them, against
// SIEVE_PPL_KLD_WANT ("Mean KLD") within SIEVE_PPL_KLD_TOL (default 0.02)
// when that is set.
func TestChunkPerplexity(t *testing.T) {
	path := os.Getenv("SIEVE_PPL_MODEL")
	if path == "" {
		path = testmodels.Path(t, "stories260K.gguf")
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

	// llama-perplexity scores the last n_ctx/2 - 1 positions of each chunk.
	if n := min(nctx, len(tokens)); r.Positions != len(seqs)*(n-nctx/2-1) {
		t.Errorf("%d positions scored in %d chunks of %d, want %d", r.Positions, len(seqs), n, len(seqs)*(n-nctx/2-1))
	}
	want, n := densePPLFrom(t, m, seqs, from)
	if n != r.Positions || math.IsNaN(r.PPL) || math.Abs(r.PPL-want) > 1e-9*want {
		t.Errorf("PPL %.10g over %d positions, want the dense reference's %.10g over %d", r.PPL, r.Positions, want, n)
	}
	if ref := envFloat(t, "SIEVE_PPL_WANT", 0); ref > 0 {
		if tol := envFloat(t, "SIEVE_PPL_TOL", 0.002); math.Abs(r.PPL/ref-1) > tol {
			t.Errorf("PPL %.4f, llama-perplexity %.4f: %+.3f%%, want within %.3f%%", r.PPL, ref, 100*(r.PPL/ref-1), 100*tol)
		}
	}
	if basePath == "" {
		return
	}
	t.Logf("Mean KLD = %.6f, same top = %.2f%% against %s (PPL %.4f)", r.KL, 100*r.Top1Agreement, basePath, r.PPLFull)
	if !(r.KL >= 0) || !(r.Top1Agreement >= 0 && r.Top1Agreement <= 1) {
		t.Errorf("KL %v, top-1 agreement %v: want KL ≥ 0 and agreement in [0, 1]", r.KL, r.Top1Agreement)
	}
	if ref := envFloat(t, "SIEVE_PPL_KLD_WANT", 0); ref > 0 {
		if tol := envFloat(t, "SIEVE_PPL_KLD_TOL", 0.02); math.Abs(r.KL/ref-1) > tol {
			t.Errorf("KLD %.6f, llama-perplexity %.6f: %+.2f%%, want within %.2f%%", r.KL, ref, 100*(r.KL/ref-1), 100*tol)
		}
	}
}

// envFloat returns the non-negative number in the environment variable, or
// def.
func envFloat(t *testing.T, name string, def float64) float64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0) {
		t.Fatalf("%s=%q: want a non-negative number", name, s)
	}
	return v
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
