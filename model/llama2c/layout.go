package llama2c

import (
	"encoding/binary"
	"math"

	"sieve/kernels"
	"sieve/model"
)

// cursor hands out consecutive fp32 tensors of a checkpoint whose size has
// already been checked against its header.
type cursor struct {
	data []byte
	off  int
}

// mat returns the next rows x cols matrix, in place.
func (c *cursor) mat(rows, cols int) kernels.Mat {
	n := 4 * rows * cols
	m := kernels.Mat{Type: kernels.F32, Rows: rows, Cols: cols, Data: c.data[c.off : c.off+n : c.off+n]}
	c.off += n
	return m
}

// vec returns a copy of the next n values.
func (c *cursor) vec(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(c.data[c.off+4*i:]))
	}
	c.off += 4 * n
	return v
}

// skip passes over n values.
func (c *cursor) skip(n int) { c.off += 4 * n }

// tensors reads the groups of per-layer tensors that each format stores
// layer after layer, one group after the other.
type tensors struct {
	h      header
	c      *cursor
	layers []model.Layer
}

func (t *tensors) attnNorms() {
	for i := range t.layers {
		t.layers[i].AttnNorm = t.c.vec(t.h.dim)
	}
}

func (t *tensors) ffnNorms() {
	for i := range t.layers {
		t.layers[i].FFNNorm = t.c.vec(t.h.dim)
	}
}

func (t *tensors) attention() {
	kvDim := t.h.kvHeads * t.h.headDim()
	for i := range t.layers {
		t.layers[i].Wq = t.c.mat(t.h.dim, t.h.dim)
	}
	for i := range t.layers {
		t.layers[i].Wk = t.c.mat(kvDim, t.h.dim)
	}
	for i := range t.layers {
		t.layers[i].Wv = t.c.mat(kvDim, t.h.dim)
	}
	for i := range t.layers {
		t.layers[i].Wo = t.c.mat(t.h.dim, t.h.dim)
	}
}

func (t *tensors) ffn() {
	for i := range t.layers {
		t.layers[i].W1 = t.c.mat(t.h.hiddenDim, t.h.dim)
	}
	for i := range t.layers {
		t.layers[i].W2 = t.c.mat(t.h.dim, t.h.hiddenDim)
	}
	for i := range t.layers {
		t.layers[i].W3 = t.c.mat(t.h.hiddenDim, t.h.dim)
	}
}

// classifier returns the output matrix: the next tensor, or the token
// embedding when the header says they are shared.
func (t *tensors) classifier(embd kernels.Mat) kernels.Mat {
	if t.h.shared {
		return embd
	}
	return t.c.mat(t.h.vocab, t.h.dim)
}

// readLegacy reads the legacy order: embedding, attention norms, wq, wk, wv,
// wo, ffn norms, w1, w2, w3, final norm, RoPE tables, classifier.
func readLegacy(h header, c *cursor) model.Weights {
	t := tensors{h: h, c: c, layers: make([]model.Layer, h.layers)}
	var w model.Weights
	w.TokenEmbd = c.mat(h.vocab, h.dim)
	t.attnNorms()
	t.attention()
	t.ffnNorms()
	t.ffn()
	w.OutputNorm = c.vec(h.dim)
	c.skip(2 * h.seqLen * (h.headDim() / 2)) // freq_cis_real, freq_cis_imag
	w.Output = t.classifier(w.TokenEmbd)
	w.Layers = t.layers
	return w
}

// readV1 reads the version-1 order: attention norms, ffn norms, final norm,
// embedding, wq, wk, wv, wo, w1, w2, w3, classifier.
func readV1(h header, c *cursor) model.Weights {
	t := tensors{h: h, c: c, layers: make([]model.Layer, h.layers)}
	var w model.Weights
	t.attnNorms()
	t.ffnNorms()
	w.OutputNorm = c.vec(h.dim)
	w.TokenEmbd = c.mat(h.vocab, h.dim)
	t.attention()
	t.ffn()
	w.Output = t.classifier(w.TokenEmbd)
	w.Layers = t.layers
	return w
}
