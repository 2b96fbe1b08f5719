package engine

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/model"
	"sieve/model/llama2c"
	"sieve/tokenizer"
)

// tinyConfig is the "tiny" test shape: 2 layers, dim 64, 4 heads, 2 KV
// heads, FFN 128.
var tinyConfig = model.Config{
	Dim: 64, HiddenDim: 128, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16,
	VocabSize: 128, ContextLen: 512, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 16,
}

// wideConfig has wide KV rows (4 layers × 4 KV heads × 32), so that a
// 1 MiB F32 pool is small: 63 blocks of 16 tokens, 15 per layer.
var wideConfig = func() model.Config {
	c := tinyConfig
	c.Layers, c.KVHeads, c.Heads, c.HeadDim = 4, 4, 4, 32
	return c
}()

// tinyModel builds a model of shape c with random F32 weights.
func tinyModel(t testing.TB, c model.Config, seed uint64) *model.Model {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	mat := func(rows, cols int, scale float32) kernels.Mat {
		f := make([]float32, rows*cols)
		for i := range f {
			f[i] = (2*r.Float32() - 1) * scale
		}
		return kernels.Mat{Type: kernels.F32, Rows: rows, Cols: cols, Data: kernels.F32Bytes(f)}
	}
	norm := func(n int) []float32 {
		f := make([]float32, n)
		for i := range f {
			f[i] = 1 + 0.1*(2*r.Float32()-1)
		}
		return f
	}
	q, kv := c.Heads*c.HeadDim, c.KVDim()
	w := model.Weights{TokenEmbd: mat(c.VocabSize, c.Dim, 1), OutputNorm: norm(c.Dim), Output: mat(c.VocabSize, c.Dim, 0.5)}
	for range c.Layers {
		w.Layers = append(w.Layers, model.Layer{
			AttnNorm: norm(c.Dim), Wq: mat(q, c.Dim, 0.3), Wk: mat(kv, c.Dim, 0.3), Wv: mat(kv, c.Dim, 0.3),
			Wo: mat(c.Dim, q, 0.3), FFNNorm: norm(c.Dim),
			W1: mat(c.HiddenDim, c.Dim, 0.3), W2: mat(c.Dim, c.HiddenDim, 0.3), W3: mat(c.HiddenDim, c.Dim, 0.3),
		})
	}
	return &model.Model{Name: "tiny", Config: c, Weights: w}
}

// stories loads stories260K and its tokenizer.
func stories(t testing.TB) (*model.Model, tokenizer.Tokenizer) {
	t.Helper()
	m, err := llama2c.Load(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.Load(testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// newEngine starts an engine and closes it at the end of the test,
// checking that every KV block came back.
func newEngine(t testing.TB, m *model.Model, tok tokenizer.Tokenizer, cfg Config) *Engine {
	t.Helper()
	if cfg.Threads == 0 {
		cfg.Threads = 2
	}
	e, err := New(m, tok, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if st := e.Stats(); st.KVBlocksUsed != 0 || st.Running != 0 || st.Waiting != 0 {
			t.Errorf("after close: %+v", st)
		}
	})
	return e
}

// result is everything one request's stream delivered.
type result struct {
	tokens   []int32
	text     string
	logits   [][]float32
	logprobs []TokenLogprobs
	events   int
	last     Event
}

// collect reads a stream to its end, checking that exactly the last event
// carries Finish.
func collect(t testing.TB, ch <-chan Event) result {
	t.Helper()
	var r result
	for ev := range ch {
		if r.last.Finish != "" {
			t.Errorf("event after the final one: %+v", ev)
		}
		r.events++
		r.tokens = append(r.tokens, ev.Tokens...)
		r.text += ev.Text
		r.logits = append(r.logits, ev.Logits...)
		r.logprobs = append(r.logprobs, ev.Logprobs...)
		r.last = ev
	}
	if r.last.Finish == "" {
		t.Errorf("stream closed without a final event")
	}
	if r.last.Usage.CompletionTokens != len(r.tokens) {
		t.Errorf("usage says %d completion tokens, stream had %d", r.last.Usage.CompletionTokens, len(r.tokens))
	}
	return r
}

// submit submits r and fails the test on error.
func submit(t testing.TB, e *Engine, ctx context.Context, r Request) <-chan Event {
	t.Helper()
	ch, err := e.Submit(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// randomPrompt returns n random token ids below vocab, starting with BOS (1).
func randomPrompt(r *rand.Rand, n, vocab int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(3 + r.IntN(vocab-3))
	}
	p[0] = 1
	return p
}
