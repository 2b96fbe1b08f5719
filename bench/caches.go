package bench

import (
	"fmt"

	"sieve/kernels"
	"sieve/kvcache"
	"sieve/llama"
	"sieve/model"
)

// PagedCaches makes paged caches (the serving engine's) holding exactly the
// benchmark's sequences, with keys and values stored as dtype.
func PagedCaches(c model.Config, pool *kernels.Pool, dtype kernels.DType) CacheFactory {
	return func(seqs, ctx int) (Cache, []int32, error) {
		bytes := int64(seqs) * kvcache.BytesFor(c, ctx+kvcache.DefaultBlockSize, kvcache.DefaultBlockSize, dtype)
		kv, err := kvcache.New(c, kvcache.Options{Bytes: bytes, DType: dtype}, pool)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: %w", err)
		}
		ids := make([]int32, seqs)
		for i := range ids {
			ids[i] = kv.NewSeq()
		}
		return kv, ids, nil
	}
}

// denseCache adapts llama.DenseCache, which has room for every position.
type denseCache struct{ *llama.DenseCache }

// Reserve implements Cache; a dense cache needs no reservation.
func (denseCache) Reserve(int32, int) error { return nil }

// DenseCaches makes contiguous F32 caches (the exact reference).
func DenseCaches(c model.Config, pool *kernels.Pool) CacheFactory {
	return func(seqs, ctx int) (Cache, []int32, error) {
		ids := make([]int32, seqs)
		for i := range ids {
			ids[i] = int32(i)
		}
		return denseCache{llama.NewDenseCache(c, pool, seqs, ctx)}, ids, nil
	}
}
