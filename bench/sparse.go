package bench

import (
	"fmt"

	"sieve/engine"
	"sieve/kernels"
	"sieve/kvcache"
	"sieve/model"
	"sieve/sparsity"
)

// Evicter is a Cache that compacts a sequence after each forward pass that
// fed it, as the serving engine does under a sparse KV policy.
type Evicter interface {
	Evict(seq int32)
}

// sparseCache is a paged cache whose sequences follow one plan.
type sparseCache struct {
	*kvcache.Cache
	plan    sparsity.Plan
	compact engine.Compactor
	scores  []float32
}

// SparseCaches makes paged caches (as PagedCaches) whose sequences evict
// under spec, bound to requests of ctx tokens. Policies that compress only
// after the prompt (snapkv) need the prompt's end, which the benchmark
// does not mark; they are refused.
func SparseCaches(c model.Config, pool *kernels.Pool, dtype kernels.DType, spec sparsity.Spec) CacheFactory {
	paged := PagedCaches(c, pool, dtype)
	return func(seqs, ctx int) (Cache, []int32, error) {
		plan, err := spec.Plan(c.Layers, ctx, kvcache.DefaultBlockSize)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: %w", err)
		}
		if plan.AfterPrompt {
			return nil, nil, fmt.Errorf("bench: policy %s compresses after the prompt; the decode benchmark has none", spec.Policy)
		}
		cache, ids, err := paged(seqs, ctx)
		if err != nil {
			return nil, nil, err
		}
		kv := cache.(*kvcache.Cache)
		for _, id := range ids {
			for l, lb := range plan.Layers {
				if !lb.Dense && lb.Heavy > 0 {
					kv.SetAccumulate(id, l, 0)
				}
			}
		}
		return &sparseCache{Cache: kv, plan: plan}, ids, nil
	}
}

// Evict implements Evicter: every layer holding its budget plus a block
// keeps its best budget slots and frees the rest.
func (s *sparseCache) Evict(seq int32) {
	for l, lb := range s.plan.Layers {
		if !s.plan.Evict(l, s.Len(seq, l)) {
			continue
		}
		var scores []float32
		if lb.Heavy > 0 {
			s.scores = s.Scores(seq, l, s.scores[:0])
			scores = s.scores
		}
		s.compact.Layer(s.Cache, seq, l, lb, scores, 0)
	}
}
