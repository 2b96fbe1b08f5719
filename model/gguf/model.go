package gguf

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"sieve/kernels"
	"sieve/model"
)

// maxDimension bounds every size read from the llama.* keys.
const maxDimension = 1 << 30

// Model builds a model from a llama-architecture file: its configuration from
// the llama.* keys and its weights in place from the tensors. The model
// shares the file's memory map (its Closer): closing either the model or the
// file releases the weights. The tokenizer is left to the caller.
func (f *File) Model() (*model.Model, error) {
	m, err := f.model()
	if err != nil && f.path != "" {
		err = fmt.Errorf("%s: %w", f.path, err)
	}
	return m, err
}

// model does the work of Model.
func (f *File) model() (*model.Model, error) {
	arch, ok := f.String("general.architecture")
	if !ok {
		return nil, fmt.Errorf("%w: missing general.architecture", model.ErrBadModel)
	}
	if arch != "llama" {
		return nil, fmt.Errorf("%w: unknown architecture %q", model.ErrUnsupported, arch)
	}
	cfg, err := f.llamaConfig()
	if err != nil {
		return nil, err
	}
	w, err := f.llamaWeights(&cfg)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &model.Model{
		Name:    strings.TrimSuffix(filepath.Base(f.path), filepath.Ext(f.path)),
		Format:  "gguf",
		Config:  cfg,
		Weights: w,
	}
	m.ChatTemplate, _ = f.String("tokenizer.chat_template")
	if f.mm != nil {
		m.Closer = f.mm
	}
	return m, nil
}

// configReader reads llama.* hyperparameters, keeping the first error.
type configReader struct {
	f   *File
	err error
}

// int reads an integer key; def < 0 makes the key required.
func (r *configReader) int(key string, def int) int {
	if r.err != nil {
		return 0
	}
	v, present := r.f.Metadata[key]
	if !present {
		if def < 0 {
			r.err = fmt.Errorf("%w: missing %s", model.ErrBadModel, key)
		}
		return def
	}
	n, ok := r.f.Uint(key)
	if !ok || n > maxDimension {
		r.err = fmt.Errorf("%w: %s = %v (%T) is not an integer in [0, %d]", model.ErrBadModel, key, v, v, maxDimension)
		return 0
	}
	return int(n)
}

// float reads a floating-point key, or returns def when it is absent.
func (r *configReader) float(key string, def float32) float32 {
	if r.err != nil {
		return 0
	}
	v, present := r.f.Metadata[key]
	if !present {
		return def
	}
	x, ok := r.f.Float(key)
	if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
		r.err = fmt.Errorf("%w: %s = %v (%T) is not a finite number", model.ErrBadModel, key, v, v)
		return 0
	}
	return float32(x)
}

// llamaConfig reads the hyperparameters from the llama.* keys. VocabSize is
// filled in later from the token embedding.
func (f *File) llamaConfig() (model.Config, error) {
	r := &configReader{f: f}
	var c model.Config
	c.Dim = r.int("llama.embedding_length", -1)
	c.HiddenDim = r.int("llama.feed_forward_length", -1)
	c.Layers = r.int("llama.block_count", -1)
	c.Heads = r.int("llama.attention.head_count", -1)
	c.ContextLen = r.int("llama.context_length", -1)
	c.KVHeads = r.int("llama.attention.head_count_kv", c.Heads)
	defHeadDim := 0
	if c.Heads > 0 {
		defHeadDim = c.Dim / c.Heads
	}
	c.HeadDim = r.int("llama.attention.key_length", defHeadDim)
	if vl := r.int("llama.attention.value_length", c.HeadDim); r.err == nil && vl != c.HeadDim {
		return c, fmt.Errorf("%w: value length %d differs from key length %d", model.ErrUnsupported, vl, c.HeadDim)
	}
	c.NormEps = r.float("llama.attention.layer_norm_rms_epsilon", 1e-5)
	c.RopeTheta = r.float("llama.rope.freq_base", 10000)
	c.RopeDim = r.int("llama.rope.dimension_count", c.HeadDim)
	c.RopeStyle = model.RopeAdjacent
	if r.err != nil {
		return c, r.err
	}
	if _, present := f.Metadata["llama.attention.key_length"]; !present && c.Dim%c.Heads != 0 {
		return c, fmt.Errorf("%w: embedding length %d not divisible by %d heads", model.ErrBadModel, c.Dim, c.Heads)
	}
	if c.NormEps <= 0 || c.RopeTheta <= 0 {
		return c, fmt.Errorf("%w: non-positive rms epsilon %g or rope base %g", model.ErrBadModel, c.NormEps, c.RopeTheta)
	}
	scale, err := f.ropeScaling(r)
	c.RopeScale = scale
	return c, err
}

// ropeScaling reads llama3-style RoPE scaling from llama.rope.scaling.* keys.
// A file with a rope_freqs.weight tensor and no such keys is handled by
// ropeScalingFromFreqs once the shapes are known.
func (f *File) ropeScaling(r *configReader) (model.RopeScaling, error) {
	var s model.RopeScaling
	typ, hasType := f.String("llama.rope.scaling.type")
	if linear := r.float("llama.rope.scale_linear", 1); r.err == nil && linear != 1 {
		return s, fmt.Errorf("%w: linear rope scaling", model.ErrUnsupported)
	}
	switch {
	case !hasType || typ == "none" || typ == "":
		if factor := r.float("llama.rope.scaling.factor", 1); r.err == nil && factor != 1 && factor != 0 && !hasType {
			return s, fmt.Errorf("%w: rope scaling factor %g without a scaling type", model.ErrUnsupported, factor)
		}
		return s, r.err
	case typ != "llama3":
		return s, fmt.Errorf("%w: rope scaling type %q", model.ErrUnsupported, typ)
	}
	s.Factor = r.float("llama.rope.scaling.factor", 0)
	s.LowFreqFactor = r.float("llama.rope.scaling.low_freq_factor", 1)
	s.HighFreqFactor = r.float("llama.rope.scaling.high_freq_factor", 4)
	s.OriginalContext = r.int("llama.rope.scaling.original_context_length", -1)
	if r.err != nil {
		return s, r.err
	}
	if s.Factor < 1 || s.LowFreqFactor <= 0 || s.HighFreqFactor <= s.LowFreqFactor || s.OriginalContext <= 0 {
		return s, fmt.Errorf("%w: llama3 rope scaling %+v", model.ErrBadModel, s)
	}
	return s, nil
}

// llamaWeights collects the tensors, checking each shape against c, and sets
// c.VocabSize from the token embedding.
func (f *File) llamaWeights(c *model.Config) (model.Weights, error) {
	var w model.Weights
	emb, err := f.Tensor("token_embd.weight")
	if err != nil {
		return w, err
	}
	if emb.Cols != c.Dim || emb.Rows == 0 {
		return w, fmt.Errorf("%w: token_embd.weight is %dx%d, want Nx%d", model.ErrBadModel, emb.Rows, emb.Cols, c.Dim)
	}
	c.VocabSize = emb.Rows
	if n, ok := f.Uint("llama.vocab_size"); ok && n != uint64(emb.Rows) {
		return w, fmt.Errorf("%w: llama.vocab_size %d differs from the %d embedding rows", model.ErrBadModel, n, emb.Rows)
	}
	w.TokenEmbd = emb
	t := tensorGetter{f: f}
	w.OutputNorm = t.vector("output_norm.weight", c.Dim)
	w.Output = emb
	if f.has("output.weight") {
		w.Output = t.matrix("output.weight", c.VocabSize, c.Dim)
	}
	qDim, kvDim := c.Heads*c.HeadDim, c.KVDim()
	if c.Layers > len(f.Tensors) {
		return w, fmt.Errorf("%w: %d blocks but only %d tensors", model.ErrBadModel, c.Layers, len(f.Tensors))
	}
	w.Layers = make([]model.Layer, c.Layers)
	for i := range w.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		w.Layers[i] = model.Layer{
			AttnNorm: t.vector(p+"attn_norm.weight", c.Dim),
			Wq:       t.matrix(p+"attn_q.weight", qDim, c.Dim),
			Wk:       t.matrix(p+"attn_k.weight", kvDim, c.Dim),
			Wv:       t.matrix(p+"attn_v.weight", kvDim, c.Dim),
			Wo:       t.matrix(p+"attn_output.weight", c.Dim, qDim),
			FFNNorm:  t.vector(p+"ffn_norm.weight", c.Dim),
			W1:       t.matrix(p+"ffn_gate.weight", c.HiddenDim, c.Dim),
			W2:       t.matrix(p+"ffn_down.weight", c.Dim, c.HiddenDim),
			W3:       t.matrix(p+"ffn_up.weight", c.HiddenDim, c.Dim),
		}
	}
	if t.err != nil {
		return w, t.err
	}
	if f.has(ropeFreqsTensor) {
		freqs := t.vector(ropeFreqsTensor, c.RopeDim/2)
		if t.err != nil {
			return w, t.err
		}
		if err := applyRopeFreqs(c, freqs); err != nil {
			return w, err
		}
	}
	return w, nil
}

// tensorGetter fetches tensors of expected shapes, keeping the first error.
type tensorGetter struct {
	f   *File
	err error
}

// matrix returns the named tensor, which must be rows x cols.
func (g *tensorGetter) matrix(name string, rows, cols int) kernels.Mat {
	if g.err != nil {
		return kernels.Mat{}
	}
	m, err := g.f.Tensor(name)
	if err == nil && (m.Rows != rows || m.Cols != cols) {
		err = fmt.Errorf("%w: tensor %q is %dx%d, want %dx%d", model.ErrBadModel, name, m.Rows, m.Cols, rows, cols)
	}
	g.err = err
	return m
}

// vector returns the named 1-D tensor of n values as a float32 copy.
func (g *tensorGetter) vector(name string, n int) []float32 {
	m := g.matrix(name, 1, n)
	if g.err != nil {
		return nil
	}
	out := make([]float32, n)
	kernels.DequantRow(out, m, 0)
	return out
}
