package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"

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

// find returns a tensor of shape want (a vector when want.Rows is 1) and a
// readable dtype.
func (r weightReader) find(name string, want model.Shape) (tensor, kernels.DType, error) {
	t, ok := r.tensors[name]
	if !ok {
		return tensor{}, 0, fmt.Errorf("%w: tensor %s missing", model.ErrBadModel, name)
	}
	typ, ok := kernelType(t.dtype)
	if !ok {
		return tensor{}, 0, fmt.Errorf("%w: tensor %s has dtype %q", model.ErrUnsupported, name, t.dtype)
	}
	vector := want.Rows == 1 && len(t.shape) == 1
	if !vector && len(t.shape) != 2 {
		return tensor{}, 0, fmt.Errorf("%w: tensor %s has shape %v, want %dx%d (%s)", model.ErrBadModel, name, t.shape, want.Rows, want.Cols, want.From)
	}
	rows, cols := 1, t.shape[0]
	if !vector {
		rows, cols = t.shape[0], t.shape[1]
	}
	if err := want.Check(name, rows, cols); err != nil {
		return tensor{}, 0, err
	}
	return t, typ, nil
}

// mat returns the matrix name of shape want, in place when it is aligned.
func (r weightReader) mat(name string, want model.Shape) (kernels.Mat, error) {
	t, typ, err := r.find(name, want)
	if err != nil {
		return kernels.Mat{}, err
	}
	return kernels.Mat{Type: typ, Rows: want.Rows, Cols: want.Cols, Data: aligned(t.data, elemBytes(t.dtype))}, nil
}

// vec returns the vector name of shape want, converted to float32.
func (r weightReader) vec(name string, want model.Shape) ([]float32, error) {
	t, typ, err := r.find(name, want)
	if err != nil {
		return nil, err
	}
	v := make([]float32, want.Cols)
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

// weights gathers every tensor of a model with the checked configuration c,
// whose keys k names. The output matrix is the token embedding when tied is
// set or lm_head.weight is absent.
func (r weightReader) weights(c model.Config, k model.Keys, tied bool) (model.Weights, error) {
	var w model.Weights
	names := make([]string, 0, len(r.tensors))
	for name := range r.tensors {
		names = append(names, name)
	}
	if err := model.CheckLayerCount(k.Layers, c.Layers, "model.layers.", names); err != nil {
		return w, err
	}
	var errs errList
	s := c.Shapes(k)
	w.TokenEmbd = errs.mat(r.mat("model.embed_tokens.weight", s.Embedding))
	w.OutputNorm = errs.vec(r.vec("model.norm.weight", s.Norm))
	if _, ok := r.tensors["lm_head.weight"]; ok && !tied {
		w.Output = errs.mat(r.mat("lm_head.weight", s.Embedding))
	} else {
		w.Output = w.TokenEmbd
	}
	w.Layers = make([]model.Layer, c.Layers)
	for i := range w.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		w.Layers[i] = model.Layer{
			AttnNorm: errs.vec(r.vec(p+"input_layernorm.weight", s.Norm)),
			Wq:       errs.mat(r.mat(p+"self_attn.q_proj.weight", s.Wq)),
			Wk:       errs.mat(r.mat(p+"self_attn.k_proj.weight", s.Wk)),
			Wv:       errs.mat(r.mat(p+"self_attn.v_proj.weight", s.Wv)),
			Wo:       errs.mat(r.mat(p+"self_attn.o_proj.weight", s.Wo)),
			FFNNorm:  errs.vec(r.vec(p+"post_attention_layernorm.weight", s.Norm)),
			W1:       errs.mat(r.mat(p+"mlp.gate_proj.weight", s.W1)),
			W2:       errs.mat(r.mat(p+"mlp.down_proj.weight", s.W2)),
			W3:       errs.mat(r.mat(p+"mlp.up_proj.weight", s.W3)),
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
