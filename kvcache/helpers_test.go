package kvcache

import (
	"math/rand/v2"
	"testing"

	"sieve/kernels"
	"sieve/model"
)

// tinyConfig is a small GQA shape: 2 layers, dim 64, 4 heads, 2 KV heads.
var tinyConfig = model.Config{
	Dim: 64, HiddenDim: 128, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16,
	VocabSize: 96, ContextLen: 256, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 16,
}

// quantConfig is a tiny model shape whose head dimension holds one 32-value
// quantization block.
var quantConfig = model.Config{
	Dim: 128, HiddenDim: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32,
	VocabSize: 96, ContextLen: 256, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 32,
}

// randomMat returns a rows×cols F32 matrix of values in [-scale, scale).
func randomMat(r *rand.Rand, rows, cols int, scale float32) kernels.Mat {
	f := make([]float32, rows*cols)
	for i := range f {
		f[i] = (2*r.Float32() - 1) * scale
	}
	return kernels.Mat{Type: kernels.F32, Rows: rows, Cols: cols, Data: kernels.F32Bytes(f)}
}

// ones returns n values near 1.
func ones(r *rand.Rand, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = 1 + 0.1*(2*r.Float32()-1)
	}
	return f
}

// randomModel builds a model of shape c with random F32 weights.
func randomModel(t testing.TB, c model.Config, seed uint64) *model.Model {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	q, kv := c.Heads*c.HeadDim, c.KVDim()
	w := model.Weights{
		TokenEmbd:  randomMat(r, c.VocabSize, c.Dim, 1),
		OutputNorm: ones(r, c.Dim),
		Output:     randomMat(r, c.VocabSize, c.Dim, 0.3),
	}
	for range c.Layers {
		w.Layers = append(w.Layers, model.Layer{
			AttnNorm: ones(r, c.Dim),
			Wq:       randomMat(r, q, c.Dim, 0.3),
			Wk:       randomMat(r, kv, c.Dim, 0.3),
			Wv:       randomMat(r, kv, c.Dim, 0.3),
			Wo:       randomMat(r, c.Dim, q, 0.3),
			FFNNorm:  ones(r, c.Dim),
			W1:       randomMat(r, c.HiddenDim, c.Dim, 0.3),
			W2:       randomMat(r, c.Dim, c.HiddenDim, 0.3),
			W3:       randomMat(r, c.HiddenDim, c.Dim, 0.3),
		})
	}
	return &model.Model{Name: "random", Config: c, Weights: w}
}

// newCache builds a cache of blocks blocks for c.
func newCache(t testing.TB, c model.Config, blocks, blockSize int, dt kernels.DType, pool *kernels.Pool) *Cache {
	t.Helper()
	kc, err := New(c, Options{Bytes: int64(blocks) * BlockBytes(c, blockSize, dt), BlockSize: blockSize, DType: dt}, pool)
	if err != nil {
		t.Fatal(err)
	}
	if kc.Blocks() != blocks {
		t.Fatalf("pool has %d blocks, want %d", kc.Blocks(), blocks)
	}
	return kc
}

// randVec returns n values in [-1, 1).
func randVec(r *rand.Rand, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = 2*r.Float32() - 1
	}
	return f
}

// scoringPair builds two caches of 100 blocks of 4 slots for tinyConfig
// on one pool of two workers, closed when the test ends: one to run
// plainly, one to score.
func scoringPair(t testing.TB, dt kernels.DType) (plain, scored *Cache) {
	t.Helper()
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	return newCache(t, tinyConfig, 100, 4, dt, pool), newCache(t, tinyConfig, 100, 4, dt, pool)
}

// freeAll frees the sequences ids and checks that the pool then has want
// free blocks.
func freeAll(t testing.TB, kc *Cache, want int, ids ...int32) {
	t.Helper()
	for _, id := range ids {
		kc.Free(id)
	}
	if kc.FreeBlocks() != want {
		t.Fatalf("%d free at the end, want %d", kc.FreeBlocks(), want)
	}
}
