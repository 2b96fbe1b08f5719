package gguf

import (
	"fmt"
	"slices"

	"sieve/model"
)

// ErrTensorLayout reports tensor data ranges that do not tile the data
// section: a tensor whose range is not the size its type and shape imply
// (the type does not match the data), or ranges that overlap. It wraps
// model.ErrBadModel.
var ErrTensorLayout = fmt.Errorf("%w: tensor data layout", model.ErrBadModel)

// checkLayout checks that the tensors' data ranges tile the data section
// of avail bytes, as GGUF writers lay them out (and llama.cpp requires):
// sorted by offset, each tensor starts where the one before it ends,
// rounded up to the alignment, and the last ends within one alignment of
// the end. A tensor's range therefore runs from its offset to the next
// tensor's, and must be exactly the size its type and shape imply, up to
// the padding. Tensors of no bytes take no range and are skipped. The
// ranges are known to lie inside the section (locateData checks that
// first).
func checkLayout(tensors []TensorInfo, avail, align uint64) error {
	order := make([]int, 0, len(tensors))
	for i, t := range tensors {
		if t.Size > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch oa, ob := tensors[a].Offset, tensors[b].Offset; {
		case oa < ob:
			return -1
		case oa > ob:
			return 1
		}
		return 0
	})
	var prev *TensorInfo
	next := uint64(0) // where the next tensor must start
	for _, i := range order {
		t := &tensors[i]
		switch {
		case prev != nil && t.Offset < prev.Offset+prev.Size:
			return fmt.Errorf("%w: tensor %q data [%d, %d) overlaps tensor %q data [%d, %d)",
				ErrTensorLayout, t.Name, t.Offset, t.Offset+t.Size, prev.Name, prev.Offset, prev.Offset+prev.Size)
		case t.Offset > next && prev == nil:
			return fmt.Errorf("%w: the data section starts with %d bytes that no tensor uses (the first tensor, %q, is at offset %d)",
				ErrTensorLayout, t.Offset, t.Name, t.Offset)
		case t.Offset > next:
			return sizeMismatch(prev, t.Offset)
		}
		prev, next = t, alignUp(t.Offset+t.Size, align)
	}
	if prev != nil && avail > next {
		return sizeMismatch(prev, avail)
	}
	return nil
}

// sizeMismatch is the error for tensor t whose data range runs to end,
// beyond the size (and padding) its type and shape imply.
func sizeMismatch(t *TensorInfo, end uint64) error {
	return fmt.Errorf("%w: tensor %q is %s of shape %v, %d bytes, but its data range [%d, %d) holds %d: its type does not match its data",
		ErrTensorLayout, t.Name, t.Type, t.Shape, t.Size, t.Offset, end, end-t.Offset)
}
