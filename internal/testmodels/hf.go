package testmodels

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"sieve/kernels"
	"sieve/model"
)

// HF fixture token ids: llama2.c vocabularies use BOS 1 and EOS 2.
const (
	hfBOS = 1
	hfEOS = 2
)

// WriteHFDir writes m as a Hugging Face Llama model directory in dir:
// config.json, generation_config.json (eos_token_id 2), model.safetensors
// with every tensor in dtype ("F32", "BF16" or "F16") and, unless tokenizerModel is
// empty, a copy of that file as tokenizer.model. Q and K rows are permuted
// from adjacent-pair into rotate-half order, as Hugging Face checkpoints
// store them, when m uses adjacent-pair RoPE.
func WriteHFDir(dir string, m *model.Model, tokenizerModel string, dtype string) error {
	return WriteHFDirShards(dir, m, tokenizerModel, dtype, 1)
}

// WriteHFDirShards is WriteHFDir with the weights split into shards files
// named model-0000i-of-0000n.safetensors, plus model.safetensors.index.json,
// when shards > 1.
func WriteHFDirShards(dir string, m *model.Model, tokenizerModel string, dtype string, shards int) error {
	if dtype != "F32" && dtype != "BF16" && dtype != "F16" {
		return fmt.Errorf("testmodels: dtype %q, want F32, BF16 or F16", dtype)
	}
	c := m.Config
	if c.RopeDim != c.HeadDim {
		return fmt.Errorf("testmodels: partial RoPE (%d of %d) has no Hugging Face Llama layout", c.RopeDim, c.HeadDim)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tied := len(m.Weights.Output.Data) > 0 && len(m.Weights.TokenEmbd.Data) > 0 &&
		&m.Weights.Output.Data[0] == &m.Weights.TokenEmbd.Data[0]
	if err := writeHFConfig(dir, c, tied, dtype); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "generation_config.json"), map[string]any{
		"bos_token_id": hfBOS, "eos_token_id": hfEOS,
	}); err != nil {
		return err
	}
	if tokenizerModel != "" {
		b, err := os.ReadFile(tokenizerModel)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "tokenizer.model"), b, 0o644); err != nil {
			return err
		}
	}
	ts, err := hfTensors(m, tied)
	if err != nil {
		return err
	}
	return writeShards(dir, ts, dtype, shards)
}

// writeHFConfig writes config.json for c.
func writeHFConfig(dir string, c model.Config, tied bool, dtype string) error {
	torchDtype := map[string]string{"F32": "float32", "BF16": "bfloat16", "F16": "float16"}[dtype]
	cfg := map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"model_type":              "llama",
		"hidden_size":             c.Dim,
		"intermediate_size":       c.HiddenDim,
		"num_hidden_layers":       c.Layers,
		"num_attention_heads":     c.Heads,
		"num_key_value_heads":     c.KVHeads,
		"head_dim":                c.HeadDim,
		"max_position_embeddings": c.ContextLen,
		"rms_norm_eps":            c.NormEps,
		"rope_theta":              c.RopeTheta,
		"tie_word_embeddings":     tied,
		"vocab_size":              c.VocabSize,
		"hidden_act":              "silu",
		"bos_token_id":            hfBOS,
		"eos_token_id":            hfEOS,
		"torch_dtype":             torchDtype,
	}
	if s := c.RopeScale; s.Factor != 0 {
		cfg["rope_scaling"] = map[string]any{
			"rope_type":                        "llama3",
			"factor":                           s.Factor,
			"low_freq_factor":                  s.LowFreqFactor,
			"high_freq_factor":                 s.HighFreqFactor,
			"original_max_position_embeddings": s.OriginalContext,
		}
	}
	return writeJSON(filepath.Join(dir, "config.json"), cfg)
}

// hfTensor is a named tensor as float32 values, ready to be stored.
type hfTensor struct {
	name   string
	shape  []int
	values []float32
}

// hfTensors lists m's tensors under their Hugging Face names, in file order.
func hfTensors(m *model.Model, tied bool) ([]hfTensor, error) {
	c := m.Config
	var ts []hfTensor
	var err error
	addMat := func(name string, x kernels.Mat, ropeHeads int) {
		if err != nil {
			return
		}
		if !x.Type.Valid() || len(x.Data) != x.Rows*x.Type.RowBytes(x.Cols) {
			err = fmt.Errorf("testmodels: tensor %s: %v %dx%d with %d bytes", name, x.Type, x.Rows, x.Cols, len(x.Data))
			return
		}
		v := make([]float32, x.Rows*x.Cols)
		for r := 0; r < x.Rows; r++ {
			src := r
			if ropeHeads > 0 {
				src = adjacentRow(r, x.Rows/ropeHeads)
			}
			kernels.DequantRow(v[r*x.Cols:(r+1)*x.Cols], x, src)
		}
		ts = append(ts, hfTensor{name, []int{x.Rows, x.Cols}, v})
	}
	addVec := func(name string, v []float32) {
		ts = append(ts, hfTensor{name, []int{len(v)}, v})
	}
	permute := c.RopeStyle == model.RopeAdjacent
	qHeads, kvHeads := 0, 0
	if permute {
		qHeads, kvHeads = c.Heads, c.KVHeads
	}
	addMat("model.embed_tokens.weight", m.Weights.TokenEmbd, 0)
	for i, l := range m.Weights.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		addVec(p+"input_layernorm.weight", l.AttnNorm)
		addMat(p+"self_attn.q_proj.weight", l.Wq, qHeads)
		addMat(p+"self_attn.k_proj.weight", l.Wk, kvHeads)
		addMat(p+"self_attn.v_proj.weight", l.Wv, 0)
		addMat(p+"self_attn.o_proj.weight", l.Wo, 0)
		addVec(p+"post_attention_layernorm.weight", l.FFNNorm)
		addMat(p+"mlp.gate_proj.weight", l.W1, 0)
		addMat(p+"mlp.up_proj.weight", l.W3, 0)
		addMat(p+"mlp.down_proj.weight", l.W2, 0)
	}
	addVec("model.norm.weight", m.Weights.OutputNorm)
	if !tied {
		addMat("lm_head.weight", m.Weights.Output, 0)
	}
	return ts, err
}

// adjacentRow returns the adjacent-pair row stored at rotate-half row r, for
// heads of d rows: rotate-half row i < d/2 holds row 2i of its head and row
// i + d/2 holds row 2i+1.
func adjacentRow(r, d int) int {
	head, i := r/d, r%d
	if i < d/2 {
		return head*d + 2*i
	}
	return head*d + 2*(i-d/2) + 1
}

// encode stores float32 values as dtype bytes, little-endian.
func encode(values []float32, dtype string) []byte {
	switch dtype {
	case "BF16", "F16":
		conv := kernels.F32ToBF16
		if dtype == "F16" {
			conv = kernels.F32ToF16
		}
		b := make([]byte, 2*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint16(b[2*i:], conv(v))
		}
		return b
	}
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// writeShards writes ts into one safetensors file, or into shards files and
// an index.
func writeShards(dir string, ts []hfTensor, dtype string, shards int) error {
	if shards <= 1 {
		return writeSafetensors(filepath.Join(dir, "model.safetensors"), ts, dtype)
	}
	if shards > len(ts) {
		shards = len(ts)
	}
	weightMap := make(map[string]string, len(ts))
	total := 0
	for s := 0; s < shards; s++ {
		part := ts[s*len(ts)/shards : (s+1)*len(ts)/shards]
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, shards)
		for _, t := range part {
			weightMap[t.name] = name
			total += len(encode(t.values, dtype))
		}
		if err := writeSafetensors(filepath.Join(dir, name), part, dtype); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "model.safetensors.index.json"), map[string]any{
		"metadata":   map[string]any{"total_size": total},
		"weight_map": weightMap,
	})
}

// writeSafetensors writes one safetensors file: an 8-byte little-endian
// header length, the JSON header padded with spaces to a multiple of 8, and
// the tensors' data in order.
func writeSafetensors(path string, ts []hfTensor, dtype string) error {
	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, t := range ts {
		b := encode(t.values, dtype)
		header[t.name] = entry{dtype, t.shape, [2]int{len(data), len(data) + len(b)}}
		data = append(data, b...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := make([]byte, 8, 8+len(h)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(append(out, h...), data...)
	return os.WriteFile(path, out, 0o644)
}

// writeJSON writes v as indented JSON.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
