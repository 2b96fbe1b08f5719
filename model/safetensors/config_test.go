package safetensors

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"sieve/model"
)

func TestModelConfig(t *testing.T) {
	base := model.Config{
		Dim: 64, HiddenDim: 172, Layers: 2, Heads: 8, KVHeads: 8, HeadDim: 8, VocabSize: 100,
		ContextLen: 2048, NormEps: 1e-6, RopeTheta: 10000, RopeDim: 8, RopeStyle: model.RopeHalf,
	}
	with := func(f func(*model.Config)) model.Config { c := base; f(&c); return c }
	const dims = `"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 100`
	tests := []struct {
		name string
		json string
		want model.Config
		err  error
	}{
		{"defaults", `{"model_type": "llama", ` + dims + `}`, base, nil},
		{"architectures only", `{"architectures": ["LlamaForCausalLM"], ` + dims + `}`, base, nil},
		{"mistral", `{"model_type": "mistral", ` + dims + `}`, base, nil},
		{"all keys", `{"model_type": "llama", ` + dims + `, "num_key_value_heads": 2, "head_dim": 16,
			"max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "hidden_act": "silu"}`,
			with(func(c *model.Config) {
				c.KVHeads, c.HeadDim, c.RopeDim, c.ContextLen, c.NormEps, c.RopeTheta = 2, 16, 16, 4096, 1e-5, 500000
			}), nil},
		{"null head_dim and scaling", `{"model_type": "llama", ` + dims + `, "head_dim": null, "rope_scaling": null}`, base, nil},
		{"llama3 scaling", `{"model_type": "llama", ` + dims + `, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
			"low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}`,
			with(func(c *model.Config) {
				c.RopeScale = model.RopeScaling{Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8192}
			}), nil},
		{"llama3 scaling, old key", `{"model_type": "llama", ` + dims + `, "rope_scaling": {"type": "llama3", "factor": 32,
			"low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}}`,
			with(func(c *model.Config) {
				c.RopeScale = model.RopeScaling{Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8192}
			}), nil},
		{"rope_parameters", `{"model_type": "llama", ` + dims + `, "rope_parameters": {"rope_type": "default", "rope_theta": 1000000}}`,
			with(func(c *model.Config) { c.RopeTheta = 1e6 }), nil},
		{"mistral sliding window", `{"model_type": "mistral", ` + dims + `, "max_position_embeddings": 32768, "sliding_window": 4096}`,
			with(func(c *model.Config) { c.ContextLen = 4096 }), nil},
		{"null sliding window", `{"model_type": "mistral", ` + dims + `, "max_position_embeddings": 32768, "sliding_window": null}`,
			with(func(c *model.Config) { c.ContextLen = 32768 }), nil},
		{"gpt2", `{"model_type": "gpt2", ` + dims + `}`, model.Config{}, model.ErrUnsupported},
		{"qwen architecture", `{"architectures": ["Qwen2ForCausalLM"], ` + dims + `}`, model.Config{}, model.ErrUnsupported},
		{"no architecture", `{` + dims + `}`, model.Config{}, model.ErrUnsupported},
		{"yarn scaling", `{"model_type": "llama", ` + dims + `, "rope_scaling": {"type": "yarn", "factor": 4}}`, model.Config{}, model.ErrUnsupported},
		{"linear scaling", `{"model_type": "llama", ` + dims + `, "rope_scaling": {"rope_type": "linear", "factor": 2}}`, model.Config{}, model.ErrUnsupported},
		{"llama3 scaling without factors", `{"model_type": "llama", ` + dims + `, "rope_scaling": {"rope_type": "llama3"}}`, model.Config{}, model.ErrBadModel},
		{"gelu", `{"model_type": "llama", ` + dims + `, "hidden_act": "gelu"}`, model.Config{}, model.ErrUnsupported},
		{"attention bias", `{"model_type": "llama", ` + dims + `, "attention_bias": true}`, model.Config{}, model.ErrUnsupported},
		{"zero heads", `{"model_type": "llama", "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 0, "vocab_size": 100}`, model.Config{}, model.ErrBadModel},
		{"heads not dividing", `{"model_type": "llama", "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 7, "vocab_size": 100}`, model.Config{}, model.ErrBadModel},
		{"zero vocab", `{"model_type": "llama", "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8}`, model.Config{}, model.ErrBadModel},
		{"kv heads not dividing", `{"model_type": "llama", ` + dims + `, "num_key_value_heads": 3}`, model.Config{}, model.ErrBadModel},
		{"zero eps", `{"model_type": "llama", ` + dims + `, "rms_norm_eps": 0}`, model.Config{}, model.ErrBadModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hc hfConfig
			if err := json.Unmarshal([]byte(tt.json), &hc); err != nil {
				t.Fatal(err)
			}
			got, err := hc.modelConfig()
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTokenIDs(t *testing.T) {
	tests := []struct {
		raw  string
		want []int32
		bad  bool
	}{
		{"", nil, false},
		{"null", nil, false},
		{"2", []int32{2}, false},
		{"[128001, 128008, 128009]", []int32{128001, 128008, 128009}, false},
		{`"</s>"`, nil, true},
		{"2.5", nil, true},
	}
	for _, tt := range tests {
		got, err := tokenIDs(json.RawMessage(tt.raw))
		if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
			t.Errorf("tokenIDs(%q) = %v, %v; want %v, error %v", tt.raw, got, err, tt.want, tt.bad)
		}
		if tt.bad && !errors.Is(err, model.ErrBadModel) {
			t.Errorf("tokenIDs(%q) error %v does not wrap ErrBadModel", tt.raw, err)
		}
	}
}

func TestChatTemplate(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{``, ""},
		{`{"chat_template": null}`, ""},
		{`{"chat_template": "{{ bos_token }}"}`, "{{ bos_token }}"},
		{`{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}`, "D"},
		{`{"chat_template": [{"name": "rag", "template": "R"}]}`, "R"},
	}
	for _, tt := range tests {
		var tc tokenizerConfig
		if tt.raw != "" {
			if err := json.Unmarshal([]byte(tt.raw), &tc); err != nil {
				t.Fatal(err)
			}
		}
		got, err := tc.chatTemplate()
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

// TestModelConfigNamesTheKey: every bad hyperparameter in config.json is an
// invalid model whose message names the key, before anything is sized from it.
func TestModelConfigNamesTheKey(t *testing.T) {
	const head = `{"model_type": "llama", "vocab_size": 100, `
	tests := []struct {
		json, want string
	}{
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 0}`, "num_attention_heads = 0"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 0, "head_dim": 8}`, "num_attention_heads = 0"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 7}`, "num_attention_heads = 7 does not divide hidden_size = 64"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 0}`, "num_key_value_heads = 0"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 3}`, "num_key_value_heads = 3 does not divide"},
		{`"hidden_size": 0, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8}`, "hidden_size = 0"},
		{`"hidden_size": 64, "intermediate_size": 0, "num_hidden_layers": 2, "num_attention_heads": 8}`, "intermediate_size = 0"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 0, "num_attention_heads": 8}`, "num_hidden_layers = 0"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 1000000000, "num_attention_heads": 8}`, "num_hidden_layers = 1000000000, want 1 to 4096"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "head_dim": 7}`, "head_dim = 7 is odd"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "max_position_embeddings": 0}`, "max_position_embeddings = 0"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "max_position_embeddings": 2000000000}`, "= 2000000000, want 1 to 16777216"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "rope_theta": 1e300}`, "rope_theta = +Inf"},
		{`"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "rms_norm_eps": -1}`, "rms_norm_eps = -1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var hc hfConfig
			if err := json.Unmarshal([]byte(head+tt.json), &hc); err != nil {
				t.Fatal(err)
			}
			_, err := hc.modelConfig()
			if !errors.Is(err, model.ErrBadModel) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrBadModel mentioning %q", err, tt.want)
			}
		})
	}
}

// FuzzModelConfig feeds arbitrary config.json text to the configuration
// reader: nothing may panic, errors wrap a sentinel, and an accepted
// configuration is valid.
func FuzzModelConfig(f *testing.F) {
	const dims = `"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 100`
	for _, seed := range []string{
		`{"model_type": "llama", ` + dims + `}`,
		`{"model_type": "llama", ` + dims + `, "num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 4096,
			"rms_norm_eps": 1e-05, "rope_theta": 500000.0, "eos_token_id": [1, 2]}`,
		`{"architectures": ["MistralForCausalLM"], ` + dims + `, "sliding_window": 4096, "rope_scaling": {"rope_type": "llama3",
			"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}`,
		`{"model_type": "llama", ` + dims + `, "rope_parameters": {"rope_type": "default", "rope_theta": 1000000}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var hc hfConfig
		if json.Unmarshal(data, &hc) != nil {
			return
		}
		c, err := hc.modelConfig()
		if err != nil {
			if !errors.Is(err, model.ErrBadModel) && !errors.Is(err, model.ErrUnsupported) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		if _, err := tokenIDs(hc.EOSTokenID); err != nil && !errors.Is(err, model.ErrBadModel) {
			t.Fatalf("eos_token_id error %v does not wrap ErrBadModel", err)
		}
	})
}
