package llama_test

import (
	"math"
	"path/filepath"
	"testing"

	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
	"sieve/model/load"
	"sieve/model/synth"
)

// tinyModel writes and loads a random tiny model of the given weight type.
func tinyModel(t *testing.T, typ kernels.DType) *model.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	shape, _ := synth.LookupShape("tiny")
	if err := synth.Write(path, shape, typ, 3, synth.ByteVocab()); err != nil {
		t.Fatal(err)
	}
	m, err := load.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

type residuals struct{ layers []int }

func (r *residuals) Residual(layer int, b *llama.Batch, x []float32) {
	r.layers = append(r.layers, layer)
}

func TestObserverSeesEveryLayerAndAttentionWeights(t *testing.T) {
	m := tinyModel(t, kernels.F32)
	c := m.Config
	runner := llama.NewRunner(m, nil, 8)
	obs := &residuals{}
	runner.Observer = obs
	cache := llama.NewDenseCache(c, nil, 1, 16)
	weights := 0
	cache.Weights = func(layer, token, head int, w []float32) {
		weights++
		var sum float64
		for _, v := range w {
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("layer %d token %d head %d: weights sum to %v", layer, token, head, sum)
		}
		if len(w) != token+1 {
			t.Errorf("token %d sees %d positions, want %d", token, len(w), token+1)
		}
	}
	var b llama.Batch
	for i := int32(0); i < 4; i++ {
		b.Add(10+i, i, 0, i == 3)
	}
	if _, err := runner.Forward(&b, cache); err != nil {
		t.Fatal(err)
	}
	if len(obs.layers) != c.Layers+1 || obs.layers[0] != -1 || obs.layers[c.Layers] != c.Layers-1 {
		t.Errorf("residual observer saw layers %v", obs.layers)
	}
	if want := c.Layers * 4 * c.Heads; weights != want {
		t.Errorf("attention weights reported %d times, want %d", weights, want)
	}
}

func TestChunkedPrefillMatchesOneBatch(t *testing.T) {
	for _, typ := range []kernels.DType{kernels.F32, kernels.F16, kernels.BF16, kernels.Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			m := tinyModel(t, typ)
			pool := kernels.NewPool(2)
			defer pool.Close()
			prompt := []int32{1, 72, 101, 108, 108, 111, 259, 119, 111, 114, 108, 100}
			last := func(chunk int) []float32 {
				r := llama.NewRunner(m, pool, chunk)
				cache := llama.NewDenseCache(m.Config, pool, 1, 32)
				var b llama.Batch
				var logits []float32
				for s := 0; s < len(prompt); s += chunk {
					b.Reset()
					for i := s; i < min(s+chunk, len(prompt)); i++ {
						b.Add(prompt[i], int32(i), 0, i == len(prompt)-1)
					}
					out, err := r.Forward(&b, cache)
					if err != nil {
						t.Fatal(err)
					}
					logits = append([]float32(nil), out...)
				}
				return logits
			}
			want := last(len(prompt))
			for _, chunk := range []int{1, 5} {
				got := last(chunk)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("chunk %d: logit %d = %v, want %v (bit-identical)", chunk, i, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestDecodeStepAllocatesNothing(t *testing.T) {
	m := tinyModel(t, kernels.Q8_0)
	pool := kernels.NewPool(2)
	defer pool.Close()
	r := llama.NewRunner(m, pool, 4)
	cache := llama.NewDenseCache(m.Config, pool, 1, 256)
	var b llama.Batch
	b.Add(1, 0, 0, true)
	if _, err := r.Forward(&b, cache); err != nil {
		t.Fatal(err)
	}
	pos := int32(1)
	allocs := testing.AllocsPerRun(50, func() {
		b.Reset()
		b.Add(5, pos, 0, true)
		pos++
		if _, err := r.Forward(&b, cache); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a decode step allocates %.1f times, want 0", allocs)
	}
}
