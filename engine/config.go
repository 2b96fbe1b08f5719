package engine

import (
	"fmt"
	"runtime"

	"sieve/kernels"
	"sieve/kvcache"
	"sieve/sparsity"
)

// Config tunes an Engine. Zero fields take the defaults below.
type Config struct {
	// Threads is the number of kernel worker threads (default: all CPUs).
	Threads int
	// KVCacheMiB is the KV pool size. The default is kvcache.DefaultRAMShare
	// of the available memory, capped at what MaxSeqs full contexts need.
	KVCacheMiB int
	// BlockSize is the number of token slots per KV block (default 16).
	BlockSize int
	// KVDType is the storage type of cached keys and values: "f16"
	// (default) or "f32".
	KVDType string
	// MaxBatchTokens bounds the tokens of one forward pass (default 512).
	MaxBatchTokens int
	// MaxSeqs bounds the sequences running at once (default 32).
	MaxSeqs int
	// MaxWaiting bounds the requests waiting for admission (default 256).
	MaxWaiting int
	// PrefillChunk is the size of prefill chunks: a sequence's chunks start
	// at the multiples of it. It must leave room for one decode token per
	// other running sequence: at most MaxBatchTokens-MaxSeqs+1. The default
	// is the largest multiple of BlockSize within that bound.
	PrefillChunk int
	// KV is the KV eviction policy of requests that name none
	// (Request.KVPolicy and KVBudget override it). The zero value is full:
	// nothing is evicted.
	KV sparsity.Spec
	// DisablePrefixCaching turns automatic prefix caching off: every
	// request then prefills its whole prompt, and a sequence's blocks are
	// free as soon as it ends. It is on by default (see Engine).
	DisablePrefixCaching bool
}

// Defaults of Config.
const (
	DefaultMaxBatchTokens = 512
	DefaultMaxSeqs        = 32
	DefaultMaxWaiting     = 256
)

// withDefaults fills the zero fields except KVCacheMiB, which needs the model.
func (c Config) withDefaults() (Config, error) {
	if c.Threads == 0 {
		c.Threads = runtime.NumCPU()
	}
	if c.BlockSize == 0 {
		c.BlockSize = kvcache.DefaultBlockSize
	}
	if c.KVDType == "" {
		c.KVDType = "f16"
	}
	if c.MaxBatchTokens == 0 {
		c.MaxBatchTokens = DefaultMaxBatchTokens
	}
	if c.MaxSeqs == 0 {
		c.MaxSeqs = DefaultMaxSeqs
	}
	if c.MaxWaiting == 0 {
		c.MaxWaiting = DefaultMaxWaiting
	}
	switch {
	case c.Threads < 0 || c.BlockSize < 0 || c.KVCacheMiB < 0 || c.MaxWaiting < 0 || c.PrefillChunk < 0:
		return c, fmt.Errorf("engine: negative setting in %+v", c)
	case c.MaxSeqs < 1 || c.MaxBatchTokens < c.MaxSeqs:
		return c, fmt.Errorf("engine: max batch tokens %d below max seqs %d", c.MaxBatchTokens, c.MaxSeqs)
	}
	if _, err := c.kvDType(); err != nil {
		return c, err
	}
	if c.KV == (sparsity.Spec{}) {
		c.KV = sparsity.DefaultSpec()
	}
	if err := c.KV.Validate(); err != nil {
		return c, fmt.Errorf("engine: %w", err)
	}
	room := c.MaxBatchTokens - c.MaxSeqs + 1
	if c.PrefillChunk == 0 {
		c.PrefillChunk = room
		if room >= c.BlockSize {
			c.PrefillChunk = room / c.BlockSize * c.BlockSize
		}
	}
	if c.PrefillChunk > room {
		return c, fmt.Errorf("engine: prefill chunk %d over max batch tokens %d - max seqs %d + 1", c.PrefillChunk, c.MaxBatchTokens, c.MaxSeqs)
	}
	return c, nil
}

// kvDType parses KVDType.
func (c Config) kvDType() (kernels.DType, error) {
	switch c.KVDType {
	case "f16":
		return kernels.F16, nil
	case "f32":
		return kernels.F32, nil
	}
	return 0, fmt.Errorf("engine: KV type %q (want f16 or f32)", c.KVDType)
}
