package kvcache

import (
	"errors"
	"fmt"

	"sieve/kernels"
	"sieve/model"
)

// DefaultBlockSize is the number of token slots in a block.
const DefaultBlockSize = 16

// maxGroup is the most query heads per KV head (the attention loop keeps
// their softmax states on the stack).
const maxGroup = 64

// ErrNoSpace reports that the pool has too few free blocks.
var ErrNoSpace = errors.New("kvcache: out of blocks")

// Options configures a Cache.
type Options struct {
	// Bytes is the memory the pool may use, metadata included.
	Bytes int64
	// BlockSize is the number of token slots per block (DefaultBlockSize if 0).
	BlockSize int
	// DType is the storage type of keys and values: kernels.F16 or kernels.F32.
	DType kernels.DType
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	return o
}

// validate checks the options against the model shape.
func (o Options) validate(c model.Config) error {
	switch {
	case o.BlockSize <= 0:
		return fmt.Errorf("kvcache: block size %d", o.BlockSize)
	case o.DType != kernels.F16 && o.DType != kernels.F32:
		return fmt.Errorf("kvcache: storage type %v (want f16 or f32)", o.DType)
	case c.HeadDim <= 0:
		return fmt.Errorf("kvcache: head dim %d", c.HeadDim)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0 || c.Heads/c.KVHeads > maxGroup:
		return fmt.Errorf("kvcache: %d heads over %d KV heads unsupported", c.Heads, c.KVHeads)
	case c.Layers <= 0:
		return fmt.Errorf("kvcache: %d layers", c.Layers)
	}
	return nil
}

// BlockBytes is the memory one block takes: keys and values of blockSize
// slots for every KV head, in dtype, plus each slot's position and score.
func BlockBytes(c model.Config, blockSize int, dtype kernels.DType) int64 {
	elem := int64(dtype.RowBytes(1))
	return int64(blockSize)*(2*int64(c.KVDim())*elem) + int64(blockSize)*(4+4)
}

// BytesFor is the pool size that holds tokens token slots in every layer,
// rounded up to whole blocks per layer.
func BytesFor(c model.Config, tokens, blockSize int, dtype kernels.DType) int64 {
	blocks := int64((tokens+blockSize-1)/blockSize) * int64(c.Layers)
	return blocks * BlockBytes(c, blockSize, dtype)
}
