package engine

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

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
	// KVDType is the storage type of cached keys and values: one of
	// KVDTypeNames, "f16" by default.
	KVDType string
	// KVKeyDType and KVValueDType, when set, override KVDType for keys and
	// for values.
	KVKeyDType, KVValueDType string
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

// ErrKVDType reports an unknown KV cache storage type.
var ErrKVDType = errors.New("engine: unknown KV cache dtype")

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
	if _, _, err := c.kvDTypes(); err != nil {
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

// kvDTypes parses the storage types of keys and values.
func (c Config) kvDTypes() (k, v kernels.DType, err error) {
	ks, vs := c.KVDType, c.KVDType
	if c.KVKeyDType != "" {
		ks = c.KVKeyDType
	}
	if c.KVValueDType != "" {
		vs = c.KVValueDType
	}
	if k, err = ParseKVDType(ks); err != nil {
		return 0, 0, err
	}
	v, err = ParseKVDType(vs)
	return k, v, err
}

// kvDTypes lists the KV cache storage types by name, the default first.
var kvDTypes = []kernels.DType{kernels.F16, kernels.BF16, kernels.F32, kernels.Q8_0, kernels.Q4_0}

// KVDTypeNames lists the names ParseKVDType accepts, comma-separated.
func KVDTypeNames() string {
	names := make([]string, len(kvDTypes))
	for i, t := range kvDTypes {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}

// ParseKVDType returns the KV cache storage type named s (see
// KVDTypeNames). An unknown name is an error wrapping ErrKVDType that
// lists the valid ones.
func ParseKVDType(s string) (kernels.DType, error) {
	for _, t := range kvDTypes {
		if s == t.String() {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w %q (valid: %s)", ErrKVDType, s, KVDTypeNames())
}
