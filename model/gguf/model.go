package gguf

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"sieve/kernels"
	"sieve/model"
)

// maxDimension bounds every size read from the llama.* keys; Config.Check
// then applies each one's own bound.
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
	keys := f.llamaKeys()
	if err := cfg.Check(keys); err != nil {
		return nil, err
	}
	if err := model.CheckLayerCount(keys.Layers, cfg.Layers, "blk.", f.tensorNames()); err != nil {
		return nil, err
	}
	w, err := f.llamaWeights(&cfg, keys)
	if err != nil {
		return nil, err
	}
	if err := cfg.Check(keys); err != nil { // again: rope_freqs may have set the scaling
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

// llamaKeys names the llama.* keys each hyperparameter comes from.
func (f *File) llamaKeys() model.Keys {
	const p = "llama."
	k := model.Keys{
		Dim: p + "embedding_length", HiddenDim: p + "feed_forward_length", Layers: p + "block_count",
		Heads: p + "attention.head_count", KVHeads: p + "attention.head_count_kv", HeadDim: p + "attention.key_length",
		VocabSize: "token_embd.weight rows", ContextLen: p + "context_length",
		NormEps: p + "attention.layer_norm_rms_epsilon", RopeTheta: p + "rope.freq_base", RopeDim: p + "rope.dimension_count",
	}
	if _, present := f.Metadata[k.HeadDim]; !present {
		k.HeadDim = "head width (llama.embedding_length / llama.attention.head_count)"
	}
	if _, present := f.Metadata[k.KVHeads]; !present {
		k.KVHeads = "llama.attention.head_count (no head_count_kv)"
	}
	if _, present := f.Metadata[k.RopeDim]; !present {
		k.RopeDim = "rope width (the head width)"
	}
	return k
}

// tensorNames lists the file's tensor names.
func (f *File) tensorNames() []string {
	names := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		names[i] = t.Name
	}
	return names
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
	if _, present := f.Metadata["llama.attention.key_length"]; !present && c.Heads > 0 && c.Dim%c.Heads != 0 {
		return c, fmt.Errorf("%w: llama.embedding_length = %d is not divisible by llama.attention.head_count = %d", model.ErrBadModel, c.Dim, c.Heads)
	}
	scale, err := f.ropeScaling(r)
	c.RopeScale = scale
	if err != nil {
		return c, err
	}
	c.VocabSize, err = f.vocabSize()
	return c, err
}

// vocabSize returns the vocabulary size: the token embedding's rows, which
// llama.vocab_size, when present, must equal.
func (f *File) vocabSize() (int, error) {
	emb, err := f.Tensor("token_embd.weight")
	if err != nil {
		return 0, err
	}
	if n, ok := f.Uint("llama.vocab_size"); ok && n != uint64(emb.Rows) {
		return 0, fmt.Errorf("%w: llama.vocab_size = %d differs from the %d rows of token_embd.weight", model.ErrBadModel, n, emb.Rows)
	}
	return emb.Rows, nil
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

// llamaWeights collects the tensors of a checked configuration, checking
// each shape against it.
func (f *File) llamaWeights(c *model.Config, k model.Keys) (model.Weights, error) {
	var w model.Weights
	s := c.Shapes(k)
	t := tensorGetter{f: f}
	w.TokenEmbd = t.matrix("token_embd.weight", s.Embedding)
	w.OutputNorm = t.vector("output_norm.weight", s.Norm)
	w.Output = w.TokenEmbd
	if f.has("output.weight") {
		w.Output = t.matrix("output.weight", s.Embedding)
	}
	w.Layers = make([]model.Layer, c.Layers)
	for i := range w.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		w.Layers[i] = model.Layer{
			AttnNorm: t.vector(p+"attn_norm.weight", s.Norm),
			Wq:       t.matrix(p+"attn_q.weight", s.Wq),
			Wk:       t.matrix(p+"attn_k.weight", s.Wk),
			Wv:       t.matrix(p+"attn_v.weight", s.Wv),
			Wo:       t.matrix(p+"attn_output.weight", s.Wo),
			FFNNorm:  t.vector(p+"ffn_norm.weight", s.Norm),
			W1:       t.matrix(p+"ffn_gate.weight", s.W1),
			W2:       t.matrix(p+"ffn_down.weight", s.W2),
			W3:       t.matrix(p+"ffn_up.weight", s.W3),
		}
	}
	if t.err != nil {
		return w, t.err
	}
	if f.has(ropeFreqsTensor) {
		freqs := t.vector(ropeFreqsTensor, model.Shape{Rows: 1, Cols: c.RopeDim / 2, From: "half of " + k.RopeDim})
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

// matrix returns the named tensor, which must have shape want.
func (g *tensorGetter) matrix(name string, want model.Shape) kernels.Mat {
	if g.err != nil {
		return kernels.Mat{}
	}
	m, err := g.f.Tensor(name)
	if err == nil {
		err = want.Check(name, m.Rows, m.Cols)
	}
	g.err = err
	return m
}

// vector returns the named 1-D tensor of shape want as a float32 copy.
func (g *tensorGetter) vector(name string, want model.Shape) []float32 {
	m := g.matrix(name, want)
	if g.err != nil {
		return nil
	}
	out := make([]float32, want.Cols)
	kernels.DequantRow(out, m, 0)
	return out
}
