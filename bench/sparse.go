package bench

import (
	"fmt"

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
	plan     sparsity.Plan
	progress []sparsity.Progress // by sequence id
	evictor  sparsity.Evictor
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
		sc := &sparseCache{Cache: cache.(*kvcache.Cache), plan: plan}
		for _, id := range ids {
			for int(id) >= len(sc.progress) {
				sc.progress = append(sc.progress, sparsity.Progress{})
			}
			sc.progress[id] = sc.evictor.Start(sc.Slots(id), &sc.plan, 0)
		}
		return sc, ids, nil
	}
}

// Evict implements Evicter: it applies the plan after a forward pass
// (sparsity.Evictor.Step), as the engine does.
func (s *sparseCache) Evict(seq int32) {
	s.evictor.Step(s.Slots(seq), &s.plan, &s.progress[seq], 0, 0, nil)
}
