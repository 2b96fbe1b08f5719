package eval

import (
	"math"
	"os"
	"strconv"
	"testing"

	"sieve/kernels"
	"sieve/llama"
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
// tokens agree, as llama-perplexity --kl-divergence does. It runs only
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
	chunks = min(chunks, len(tokens)/nctx)
	if chunks == 0 {
		t.Fatalf("%d tokens: not one chunk of %d", len(tokens), nctx)
	}
	t.Logf("%s: %d tokens, %d chunks of %d, weights %v", path, len(tokens), chunks, nctx, m.Weights.Layers[0].W1.Type)
	logits := chunkLogits(t, m, tokens, nctx, chunks)
	var nll float64
	n := 0
	for c := range chunks {
		for j := nctx / 2; j < nctx-1; j++ {
			row := logits[c][(j-nctx/2)*m.Config.VocabSize:][:m.Config.VocabSize]
			nll -= logSoftmax(nil, row)[tokens[c*nctx+j+1]]
			n++
		}
	}
	t.Logf("PPL = %.4f over %d tokens", math.Exp(nll/float64(n)), n)
	basePath := os.Getenv("SIEVE_PPL_BASE")
	if basePath == "" {
		return
	}
	base := chunkLogits(t, openModel(t, basePath), tokens, nctx, chunks)
	var kld float64
	same := 0
	v := m.Config.VocabSize
	for c := range chunks {
		for i := 0; i < nctx-1-nctx/2; i++ {
			p, q := base[c][i*v:(i+1)*v], logits[c][i*v:(i+1)*v]
			kld += klDiv(logSoftmax(nil, p), logSoftmax(nil, q))
			if argmax(p) == argmax(q) {
				same++
			}
		}
	}
	t.Logf("Mean KLD = %.6f, same top = %.2f%% against %s", kld/float64(n), 100*float64(same)/float64(n), basePath)
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

// chunkLogits runs each chunk of nctx tokens (BOS first) in one forward
// pass and returns, per chunk, the logits of positions nctx/2 to nctx-2.
func chunkLogits(t *testing.T, m *model.Model, tokens []int32, nctx, chunks int) [][]float32 {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	run := llama.NewRunner(m, pool, nctx)
	out := make([][]float32, chunks)
	var b llama.Batch
	for c := range chunks {
		b.Reset()
		for j := range nctx {
			tok := tokens[c*nctx+j]
			if j == 0 {
				tok = m.Tokenizer.BOS()
			}
			b.Add(tok, int32(j), 0, j >= nctx/2 && j < nctx-1)
		}
		logits, err := run.Forward(&b, llama.NewDenseCache(m.Config, pool, 1, nctx))
		if err != nil {
			t.Fatal(err)
		}
		out[c] = append([]float32(nil), logits...)
	}
	return out
}
