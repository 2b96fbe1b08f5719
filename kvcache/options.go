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

// ErrDType reports a storage type the cache cannot use for the model.
var ErrDType = errors.New("kvcache: unusable storage type")

// Options configures a Cache.
type Options struct {
	// Bytes is the memory the pool may use, metadata included.
	Bytes int64
	// BlockSize is the number of token slots per block (DefaultBlockSize if 0).
	BlockSize int
	// DType is the storage type of keys and values (of keys only with
	// SplitTypes): one that kernels.KVType accepts.
	DType kernels.DType
	// SplitTypes stores values as ValueDType instead of DType.
	SplitTypes bool
	// ValueDType is the storage type of values with SplitTypes.
	ValueDType kernels.DType
}

// kvTypes returns the storage types of keys and values.
func (o Options) kvTypes() (k, v kernels.DType) {
	if o.SplitTypes {
		return o.DType, o.ValueDType
	}
	return o.DType, o.DType
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
	kt, vt := o.kvTypes()
	switch {
	case o.BlockSize <= 0:
		return fmt.Errorf("kvcache: block size %d", o.BlockSize)
	case !kernels.KVType(kt) || !kernels.KVType(vt):
		return fmt.Errorf("%w: keys %v, values %v (want f32, f16, bf16, q8_0 or q4_0)", ErrDType, kt, vt)
	case c.HeadDim <= 0:
		return fmt.Errorf("kvcache: head dim %d", c.HeadDim)
	case kernels.KVRowBytes(kt, c.HeadDim) == 0 || kernels.KVRowBytes(vt, c.HeadDim) == 0:
		t := kt
		if kernels.KVRowBytes(t, c.HeadDim) != 0 {
			t = vt
		}
		return fmt.Errorf("%w: %v quantizes each head's vector in blocks of %d values (or in one block of 8 or 16), and the head dimension is %d",
			ErrDType, t, t.BlockSize(), c.HeadDim)
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
	return BlockBytesKV(c, blockSize, dtype, dtype)
}

// BlockBytesKV is BlockBytes with keys stored as kt and values as vt. A
// quantized type's scales are per slot and KV head, within the row of the
// head's vector (kernels.KVRowBytes bytes).
func BlockBytesKV(c model.Config, blockSize int, kt, vt kernels.DType) int64 {
	row := int64(kernels.KVRowBytes(kt, c.HeadDim) + kernels.KVRowBytes(vt, c.HeadDim))
	return int64(blockSize)*int64(c.KVHeads)*row + int64(blockSize)*(4+4)
}

// BytesFor is the pool size that holds tokens token slots in every layer,
// rounded up to whole blocks per layer.
func BytesFor(c model.Config, tokens, blockSize int, dtype kernels.DType) int64 {
	return BytesForKV(c, tokens, blockSize, dtype, dtype)
}

// BytesForKV is BytesFor with keys stored as kt and values as vt.
func BytesForKV(c model.Config, tokens, blockSize int, kt, vt kernels.DType) int64 {
	blocks := int64((tokens+blockSize-1)/blockSize) * int64(c.Layers)
	return blocks * BlockBytesKV(c, blockSize, kt, vt)
}
