package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"sieve/kernels"
	"sieve/model"
)

// kernelType maps a safetensors dtype name to its kernel storage type.
func kernelType(dtype string) (kernels.DType, bool) {
	switch dtype {
	case "F32":
		return kernels.F32, true
	case "F16":
		return kernels.F16, true
	case "BF16":
		return kernels.BF16, true
	}
	return 0, false
}

// weightReader looks up Llama tensors by their Hugging Face names.
type weightReader struct {
	tensors map[string]tensor
}

// find returns a tensor of the given shape and a readable dtype.
func (r weightReader) find(name string, shape ...int) (tensor, kernels.DType, error) {
	t, ok := r.tensors[name]
	if !ok {
		return tensor{}, 0, fmt.Errorf("%w: tensor %s missing", model.ErrBadModel, name)
	}
	typ, ok := kernelType(t.dtype)
	if !ok {
		return tensor{}, 0, fmt.Errorf("%w: tensor %s has dtype %q", model.ErrUnsupported, name, t.dtype)
	}
	if !slices.Equal(t.shape, shape) {
		return tensor{}, 0, fmt.Errorf("%w: tensor %s has shape %v, want %v", model.ErrBadModel, name, t.shape, shape)
	}
	return t, typ, nil
}

// mat returns the rows x cols matrix name, in place when it is aligned.
func (r weightReader) mat(name string, rows, cols int) (kernels.Mat, error) {
	t, typ, err := r.find(name, rows, cols)
	if err != nil {
		return kernels.Mat{}, err
	}
	return kernels.Mat{Type: typ, Rows: rows, Cols: cols, Data: aligned(t.data, elemBytes(t.dtype))}, nil
}

// vec returns the vector name, converted to float32.
func (r weightReader) vec(name string, n int) ([]float32, error) {
	t, typ, err := r.find(name, n)
	if err != nil {
		return nil, err
	}
	v := make([]float32, n)
	for i := range v {
		switch typ {
		case kernels.F32:
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:]))
		case kernels.F16:
			v[i] = kernels.F16ToF32(binary.LittleEndian.Uint16(t.data[2*i:]))
		case kernels.BF16:
			v[i] = kernels.BF16ToF32(binary.LittleEndian.Uint16(t.data[2*i:]))
		}
	}
	return v, nil
}

// weights gathers every tensor of a model with configuration c. The output
// matrix is the token embedding when tied is set or lm_head.weight is absent.
func (r weightReader) weights(c model.Config, tied bool) (model.Weights, error) {
	var w model.Weights
	var errs errList
	qDim, kvDim := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	w.TokenEmbd = errs.mat(r.mat("model.embed_tokens.weight", c.VocabSize, c.Dim))
	w.OutputNorm = errs.vec(r.vec("model.norm.weight", c.Dim))
	if _, ok := r.tensors["lm_head.weight"]; ok && !tied {
		w.Output = errs.mat(r.mat("lm_head.weight", c.VocabSize, c.Dim))
	} else {
		w.Output = w.TokenEmbd
	}
	w.Layers = make([]model.Layer, c.Layers)
	for i := range w.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		w.Layers[i] = model.Layer{
			AttnNorm: errs.vec(r.vec(p+"input_layernorm.weight", c.Dim)),
			Wq:       errs.mat(r.mat(p+"self_attn.q_proj.weight", qDim, c.Dim)),
			Wk:       errs.mat(r.mat(p+"self_attn.k_proj.weight", kvDim, c.Dim)),
			Wv:       errs.mat(r.mat(p+"self_attn.v_proj.weight", kvDim, c.Dim)),
			Wo:       errs.mat(r.mat(p+"self_attn.o_proj.weight", c.Dim, qDim)),
			FFNNorm:  errs.vec(r.vec(p+"post_attention_layernorm.weight", c.Dim)),
			W1:       errs.mat(r.mat(p+"mlp.gate_proj.weight", c.HiddenDim, c.Dim)),
			W2:       errs.mat(r.mat(p+"mlp.down_proj.weight", c.Dim, c.HiddenDim)),
			W3:       errs.mat(r.mat(p+"mlp.up_proj.weight", c.HiddenDim, c.Dim)),
		}
	}
	return w, errs.err
}

// errList keeps the first error of a sequence of lookups.
type errList struct{ err error }

func (e *errList) mat(m kernels.Mat, err error) kernels.Mat {
	if e.err == nil {
		e.err = err
	}
	return m
}

func (e *errList) vec(v []float32, err error) []float32 {
	if e.err == nil {
		e.err = err
	}
	return v
}
