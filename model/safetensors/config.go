package safetensors

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"sieve/model"
)

// Defaults of the Hugging Face LlamaConfig for keys a config.json may omit.
const (
	defaultRopeTheta  = 10000
	defaultNormEps    = 1e-6
	defaultContextLen = 2048
)

// isLlamaModelType reports whether a config.json model_type has Llama's
// tensors and forward pass.
func isLlamaModelType(t string) bool { return t == "llama" || t == "mistral" }

// isLlamaArchitecture is isLlamaModelType for an "architectures" entry.
func isLlamaArchitecture(a string) bool { return a == "LlamaForCausalLM" || a == "MistralForCausalLM" }

// hfConfig is the part of config.json that Sieve reads.
type hfConfig struct {
	ModelType         string          `json:"model_type"`
	Architectures     []string        `json:"architectures"`
	HiddenSize        int             `json:"hidden_size"`
	IntermediateSize  int             `json:"intermediate_size"`
	NumHiddenLayers   int             `json:"num_hidden_layers"`
	NumAttentionHeads int             `json:"num_attention_heads"`
	NumKeyValueHeads  *int            `json:"num_key_value_heads"`
	HeadDim           *int            `json:"head_dim"`
	MaxPositions      *int            `json:"max_position_embeddings"`
	RMSNormEps        *float64        `json:"rms_norm_eps"`
	RopeTheta         *float64        `json:"rope_theta"`
	RopeScaling       *ropeParams     `json:"rope_scaling"`
	RopeParameters    *ropeParams     `json:"rope_parameters"` // newer spelling of rope_theta + rope_scaling
	TieWordEmbeddings bool            `json:"tie_word_embeddings"`
	VocabSize         int             `json:"vocab_size"`
	HiddenAct         string          `json:"hidden_act"`
	AttentionBias     bool            `json:"attention_bias"`
	MLPBias           bool            `json:"mlp_bias"`
	SlidingWindow     *int            `json:"sliding_window"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
}

// ropeParams is a rope_scaling (or rope_parameters) object.
type ropeParams struct {
	RopeType        string   `json:"rope_type"`
	Type            string   `json:"type"` // older spelling of rope_type
	RopeTheta       *float64 `json:"rope_theta"`
	Factor          float64  `json:"factor"`
	LowFreqFactor   float64  `json:"low_freq_factor"`
	HighFreqFactor  float64  `json:"high_freq_factor"`
	OriginalContext int      `json:"original_max_position_embeddings"`
}

// readJSON decodes the JSON file at path into v. A missing or malformed
// file is an invalid model; a missing one also matches os.ErrNotExist.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %w", model.ErrBadModel, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %w", model.ErrBadModel, path, err)
	}
	return nil
}

// checkArchitecture accepts Llama-like model types only.
func (c *hfConfig) checkArchitecture() error {
	if c.ModelType != "" {
		if !isLlamaModelType(c.ModelType) {
			return fmt.Errorf("%w: unknown architecture %q", model.ErrUnsupported, c.ModelType)
		}
	} else if !slices.ContainsFunc(c.Architectures, isLlamaArchitecture) {
		return fmt.Errorf("%w: unknown architecture %q", model.ErrUnsupported, c.Architectures)
	}
	switch {
	case c.HiddenAct != "" && c.HiddenAct != "silu":
		return fmt.Errorf("%w: activation %q", model.ErrUnsupported, c.HiddenAct)
	case c.AttentionBias || c.MLPBias:
		return fmt.Errorf("%w: linear layers with bias", model.ErrUnsupported)
	}
	return nil
}

// modelConfig converts config.json to a model configuration.
func (c *hfConfig) modelConfig() (model.Config, error) {
	if err := c.checkArchitecture(); err != nil {
		return model.Config{}, err
	}
	cfg := model.Config{
		Dim:        c.HiddenSize,
		HiddenDim:  c.IntermediateSize,
		Layers:     c.NumHiddenLayers,
		Heads:      c.NumAttentionHeads,
		KVHeads:    c.NumAttentionHeads,
		VocabSize:  c.VocabSize,
		ContextLen: defaultContextLen,
		NormEps:    defaultNormEps,
		RopeTheta:  defaultRopeTheta,
		RopeStyle:  model.RopeHalf,
	}
	if c.HeadDim != nil {
		cfg.HeadDim = *c.HeadDim
	} else if c.NumAttentionHeads > 0 {
		cfg.HeadDim = c.HiddenSize / c.NumAttentionHeads
		if c.HiddenSize%c.NumAttentionHeads != 0 {
			return model.Config{}, fmt.Errorf("%w: num_attention_heads = %d does not divide hidden_size = %d", model.ErrBadModel, c.NumAttentionHeads, c.HiddenSize)
		}
	}
	cfg.RopeDim = cfg.HeadDim
	if c.NumKeyValueHeads != nil {
		cfg.KVHeads = *c.NumKeyValueHeads
	}
	if c.MaxPositions != nil {
		cfg.ContextLen = *c.MaxPositions
	}
	// Sliding-window attention equals full attention within the window, so
	// a model with a window shorter than its context is capped to the window.
	if c.SlidingWindow != nil && *c.SlidingWindow > 0 && *c.SlidingWindow < cfg.ContextLen {
		cfg.ContextLen = *c.SlidingWindow
	}
	if c.RMSNormEps != nil {
		cfg.NormEps = float32(*c.RMSNormEps)
	}
	if c.RopeTheta != nil {
		cfg.RopeTheta = float32(*c.RopeTheta)
	}
	for _, rp := range []*ropeParams{c.RopeParameters, c.RopeScaling} {
		if rp == nil {
			continue
		}
		if rp.RopeTheta != nil {
			cfg.RopeTheta = float32(*rp.RopeTheta)
		}
		scale, err := rp.scaling()
		if err != nil {
			return model.Config{}, err
		}
		if scale.Factor != 0 {
			cfg.RopeScale = scale
		}
	}
	if err := cfg.Check(c.keys()); err != nil {
		return model.Config{}, err
	}
	return cfg, nil
}

// keys names the config.json keys of each hyperparameter.
func (c *hfConfig) keys() model.Keys {
	k := model.Keys{
		Dim:        "hidden_size",
		HiddenDim:  "intermediate_size",
		Layers:     "num_hidden_layers",
		Heads:      "num_attention_heads",
		KVHeads:    "num_key_value_heads",
		HeadDim:    "head_dim",
		VocabSize:  "vocab_size",
		ContextLen: "max_position_embeddings",
		NormEps:    "rms_norm_eps",
		RopeTheta:  "rope_theta",
		RopeDim:    "head_dim",
	}
	if c.NumKeyValueHeads == nil {
		k.KVHeads = "num_attention_heads (no num_key_value_heads)"
	}
	if c.HeadDim == nil {
		k.HeadDim = "head width (hidden_size / num_attention_heads)"
		k.RopeDim = k.HeadDim
	}
	if c.MaxPositions == nil || (c.SlidingWindow != nil && *c.SlidingWindow > 0 && *c.SlidingWindow < *c.MaxPositions) {
		k.ContextLen = "context length (max_position_embeddings or sliding_window)"
	}
	return k
}

// scaling converts the RoPE scaling parameters; only Llama 3 scaling is supported.
func (rp *ropeParams) scaling() (model.RopeScaling, error) {
	kind := rp.RopeType
	if kind == "" {
		kind = rp.Type
	}
	switch kind {
	case "", "default":
		return model.RopeScaling{}, nil
	case "llama3":
	default:
		return model.RopeScaling{}, fmt.Errorf("%w: rope scaling %q", model.ErrUnsupported, kind)
	}
	if !(rp.Factor > 0) || !(rp.LowFreqFactor > 0) || !(rp.HighFreqFactor > rp.LowFreqFactor) || rp.OriginalContext <= 0 {
		return model.RopeScaling{}, fmt.Errorf("%w: llama3 rope scaling %+v", model.ErrBadModel, *rp)
	}
	return model.RopeScaling{
		Factor:          float32(rp.Factor),
		LowFreqFactor:   float32(rp.LowFreqFactor),
		HighFreqFactor:  float32(rp.HighFreqFactor),
		OriginalContext: rp.OriginalContext,
	}, nil
}

// tokenIDs decodes an eos_token_id value: absent, null, one id or a list.
func tokenIDs(raw json.RawMessage) ([]int32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int32
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int32{one}, nil
	}
	var list []int32
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%w: eos_token_id %s", model.ErrBadModel, raw)
	}
	return list, nil
}
