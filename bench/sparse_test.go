package bench

import (
	"context"
	"testing"

	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/model/llama2c"
	"sieve/sparsity"
)

func TestDecodeWithSparseCacheEvicts(t *testing.T) {
	m, err := llama2c.Load(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, policy := range []string{"h2o", "window", "pyramid"} {
		spec, err := sparsity.ParseSpec(policy, 32, "")
		if err != nil {
			t.Fatal(err)
		}
		sparse := SparseCaches(m.Config, pool, kernels.F16, spec)
		var last *sparseCache
		var ids []int32
		capture := func(seqs, ctx int) (Cache, []int32, error) {
			c, id, err := sparse(seqs, ctx)
			if err == nil {
				last, ids = c.(*sparseCache), id
			}
			return c, id, err
		}
		cfg := DecodeConfig{Gen: 30, Depth: 100, Batch: 2, Repeats: 1, Chunk: 16, Seed: 1}
		if _, err := Decode(context.Background(), m, pool, cfg, capture); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			for l := range m.Config.Layers {
				lb := last.plan.Layers[l]
				if n := last.Len(id, l); lb.Dense || n < lb.Budget() || n >= lb.Budget()+16 {
					t.Errorf("%s: layer %d (%v) holds %d slots after 130 tokens", policy, l, lb, n)
				}
			}
		}
	}
	snap, _ := sparsity.ParseSpec("snapkv", 64, "")
	if _, _, err := SparseCaches(m.Config, pool, kernels.F16, snap)(1, 200); err == nil {
		t.Error("snapkv accepted without a prompt")
	}
}
