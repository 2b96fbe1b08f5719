package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Shape is the shape a weight must have (Rows is 1 for a vector) and how the
// configuration implies it, for error messages.
type Shape struct {
	Rows, Cols int
	From       string // e.g. "rows llama.attention.head_count × head width, cols llama.embedding_length"
}

// Shapes holds the shape of every weight that a configuration implies: the
// token embedding and output matrix, and each layer's weights (all norm
// vectors share one shape).
type Shapes struct {
	Embedding, Norm            Shape
	Wq, Wk, Wv, Wo, W1, W2, W3 Shape
}

// Shapes returns the weight shapes of a checked configuration; k names the
// keys in the messages, as for Check.
func (c Config) Shapes(k Keys) Shapes {
	dim := name(k.Dim, "Dim")
	hidden := name(k.HiddenDim, "HiddenDim")
	q := name(k.Heads, "Heads") + " × " + name(k.HeadDim, "HeadDim")
	kv := name(k.KVHeads, "KVHeads") + " × " + name(k.HeadDim, "HeadDim")
	mat := func(rows, cols int, r, c string) Shape {
		return Shape{Rows: rows, Cols: cols, From: "rows " + r + ", cols " + c}
	}
	qDim, kvDim := c.Heads*c.HeadDim, c.KVDim()
	return Shapes{
		Embedding: mat(c.VocabSize, c.Dim, name(k.VocabSize, "VocabSize"), dim),
		Norm:      Shape{Rows: 1, Cols: c.Dim, From: "length " + dim},
		Wq:        mat(qDim, c.Dim, q, dim),
		Wk:        mat(kvDim, c.Dim, kv, dim),
		Wv:        mat(kvDim, c.Dim, kv, dim),
		Wo:        mat(c.Dim, qDim, dim, q),
		W1:        mat(c.HiddenDim, c.Dim, hidden, dim),
		W2:        mat(c.Dim, c.HiddenDim, dim, hidden),
		W3:        mat(c.HiddenDim, c.Dim, hidden, dim),
	}
}

// Check returns an error wrapping ErrBadModel when tensor, of rows x cols
// (rows 1 for a vector), does not have shape s.
func (s Shape) Check(tensor string, rows, cols int) error {
	if rows == s.Rows && cols == s.Cols {
		return nil
	}
	if s.Rows == 1 {
		return fmt.Errorf("%w: tensor %q is %dx%d, want a vector of %d (%s)", ErrBadModel, tensor, rows, cols, s.Cols, s.From)
	}
	return fmt.Errorf("%w: tensor %q is %dx%d, want %dx%d (%s)", ErrBadModel, tensor, rows, cols, s.Rows, s.Cols, s.From)
}

// CheckLayerCount checks that a file's per-layer tensors, named prefix, the
// layer index, a dot and the rest (e.g. "blk.3.attn_q.weight" for prefix
// "blk."), cover exactly layers layers, as key (the layer-count key) says.
// A count beyond the tensors present, or tensors past the count, is an error
// wrapping ErrBadModel.
func CheckLayerCount(key string, layers int, prefix string, names []string) error {
	found := 0
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		idx, _, ok := strings.Cut(rest, ".")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 0 {
			continue
		}
		found = max(found, min(i, MaxLayers)+1)
	}
	if found != layers {
		return fmt.Errorf("%w: %s = %d, but the file holds tensors for %d layers", ErrBadModel, key, layers, found)
	}
	return nil
}
