package llama2c

import (
	"encoding/binary"
	"fmt"

	"sieve/model"
)

// Header layout constants.
const (
	legacyHeaderBytes = 7 * 4 // seven int32 config values
	v1HeaderBytes     = 256   // magic, version, config, shared flag, zero pad
	magicAK42         = 0x616b3432
	maxDim            = model.MaxDim // sanity bounds that reject garbage headers
	maxHiddenDim      = model.MaxHiddenDim
	maxLayers         = model.MaxLayers
	maxVocab          = 1 << 22
	maxSeqLen         = model.MaxContextLen
)

// header is the configuration a llama2.c checkpoint starts with.
type header struct {
	dim, hiddenDim, layers, heads, kvHeads, vocab, seqLen int
	shared                                                bool // classifier tied to the token embedding
	v1                                                    bool // "ak42" version 1 layout
}

// parseHeader reads and sanity-checks the header of either format.
func parseHeader(data []byte) (header, error) {
	if len(data) < legacyHeaderBytes {
		return header{}, fmt.Errorf("%w: %d bytes is shorter than the header", model.ErrBadModel, len(data))
	}
	var h header
	var cfg []byte
	if binary.LittleEndian.Uint32(data) == magicAK42 {
		if len(data) < v1HeaderBytes {
			return header{}, fmt.Errorf("%w: %d bytes is shorter than the version-1 header", model.ErrBadModel, len(data))
		}
		switch v := int32(binary.LittleEndian.Uint32(data[4:])); v {
		case 1:
		case 2:
			return header{}, fmt.Errorf("%w: llama2.c version 2 (int8 quantized) checkpoints", model.ErrUnsupported)
		default:
			return header{}, fmt.Errorf("%w: llama2.c version %d", model.ErrBadModel, v)
		}
		cfg = data[8:36]
		switch data[36] {
		case 0, 1:
			h.shared = data[36] == 1
		default:
			return header{}, fmt.Errorf("%w: shared-classifier flag %d", model.ErrBadModel, data[36])
		}
		h.v1 = true
	} else {
		cfg = data[:legacyHeaderBytes]
	}
	var v [7]int
	for i := range v {
		v[i] = int(int32(binary.LittleEndian.Uint32(cfg[4*i:])))
	}
	h.dim, h.hiddenDim, h.layers, h.heads, h.kvHeads, h.vocab, h.seqLen = v[0], v[1], v[2], v[3], v[4], v[5], v[6]
	if !h.v1 {
		// The legacy format marks an unshared classifier with a negative vocab size.
		h.shared = h.vocab > 0
		if h.vocab < 0 {
			h.vocab = -h.vocab
		}
	}
	return h, h.check()
}

// check rejects dimensions that are non-positive, absurdly large or inconsistent.
func (h header) check() error {
	bounds := []struct {
		name   string
		v, max int
	}{
		{"dim", h.dim, maxDim},
		{"hidden_dim", h.hiddenDim, maxHiddenDim},
		{"n_layers", h.layers, maxLayers},
		{"n_heads", h.heads, h.dim},
		{"n_kv_heads", h.kvHeads, h.heads},
		{"vocab_size", h.vocab, maxVocab},
		{"seq_len", h.seqLen, maxSeqLen},
	}
	for _, b := range bounds {
		if b.v <= 0 || b.v > b.max {
			return fmt.Errorf("%w: %s %d out of range [1, %d]", model.ErrBadModel, b.name, b.v, b.max)
		}
	}
	if h.dim%h.heads != 0 {
		return fmt.Errorf("%w: %d heads do not divide dim %d", model.ErrBadModel, h.heads, h.dim)
	}
	if h.heads%h.kvHeads != 0 {
		return fmt.Errorf("%w: %d KV heads do not divide %d heads", model.ErrBadModel, h.kvHeads, h.heads)
	}
	return nil
}

// headDim is the width of one attention head.
func (h header) headDim() int { return h.dim / h.heads }

// fileSize is the exact number of bytes a checkpoint with this header has.
func (h header) fileSize() int64 {
	dim, hidden, layers := int64(h.dim), int64(h.hiddenDim), int64(h.layers)
	kvDim := int64(h.kvHeads * h.headDim())
	vocab := int64(h.vocab)
	floats := vocab*dim + // token embedding
		layers*(2*dim+ // attention and ffn norms
			2*dim*dim+2*kvDim*dim+ // wq, wo, wk, wv
			3*hidden*dim) + // w1, w2, w3
		dim // final norm
	if !h.shared {
		floats += vocab * dim
	}
	if h.v1 {
		return v1HeaderBytes + 4*floats
	}
	// The legacy format also stores the RoPE tables freq_cis_real and
	// freq_cis_imag, seq_len x head_size/2 each.
	floats += 2 * int64(h.seqLen) * int64(h.headDim()/2)
	return legacyHeaderBytes + 4*floats
}

// headerKeys names the header fields, as llama2.c's Config struct does.
func headerKeys() model.Keys {
	return model.Keys{
		Dim: "dim", HiddenDim: "hidden_dim", Layers: "n_layers", Heads: "n_heads", KVHeads: "n_kv_heads",
		HeadDim: "head width (dim / n_heads)", VocabSize: "vocab_size", ContextLen: "seq_len",
		RopeDim: "head width (dim / n_heads)",
	}
}

// config converts the header to a model configuration.
func (h header) config() model.Config {
	return model.Config{
		Dim:        h.dim,
		HiddenDim:  h.hiddenDim,
		Layers:     h.layers,
		Heads:      h.heads,
		KVHeads:    h.kvHeads,
		HeadDim:    h.headDim(),
		VocabSize:  h.vocab,
		ContextLen: h.seqLen,
		NormEps:    1e-5,
		RopeTheta:  10000,
		RopeDim:    h.headDim(),
		RopeStyle:  model.RopeAdjacent,
	}
}
