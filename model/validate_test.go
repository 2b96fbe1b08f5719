package model

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// good is a valid configuration (stories260K's shape).
var good = Config{
	Dim: 64, HiddenDim: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8, VocabSize: 512,
	ContextLen: 512, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 8,
}

func TestCheck(t *testing.T) {
	keys := Keys{Heads: "n_heads", KVHeads: "n_kv_heads"}
	tests := []struct {
		name string
		edit func(c *Config)
		want string // "" for valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"zero heads, key named", func(c *Config) { c.Heads = 0 }, "n_heads = 0, want 1 to 4096"},
		{"zero kv heads", func(c *Config) { c.KVHeads = 0 }, "n_kv_heads = 0, want 1 to 8"},
		{"kv heads not dividing", func(c *Config) { c.KVHeads = 3 }, "n_kv_heads = 3 does not divide n_heads = 8"},
		{"negative dim, field named", func(c *Config) { c.Dim = -1 }, "Dim = -1"},
		{"huge dim", func(c *Config) { c.Dim = MaxDim + 1 }, "Dim = 65537, want 1 to 65536"},
		{"zero hidden", func(c *Config) { c.HiddenDim = 0 }, "HiddenDim = 0"},
		{"zero layers", func(c *Config) { c.Layers = 0 }, "Layers = 0"},
		{"huge layers", func(c *Config) { c.Layers = 1 << 40 }, "Layers = 1099511627776"},
		{"zero head dim", func(c *Config) { c.HeadDim = 0 }, "HeadDim = 0"},
		{"odd head dim", func(c *Config) { c.HeadDim, c.RopeDim = 7, 6 }, "HeadDim = 7 is odd"},
		{"zero vocab", func(c *Config) { c.VocabSize = 0 }, "VocabSize = 0"},
		{"huge vocab", func(c *Config) { c.VocabSize = MaxVocabSize + 1 }, "VocabSize = 16777217"},
		{"zero context", func(c *Config) { c.ContextLen = 0 }, "ContextLen = 0"},
		{"huge context", func(c *Config) { c.ContextLen = 1 << 31 }, "ContextLen = 2147483648"},
		{"rope wider than head", func(c *Config) { c.RopeDim = 16 }, "RopeDim = 16, want 1 to 8"},
		{"odd rope", func(c *Config) { c.RopeDim = 5 }, "RopeDim = 5 is odd"},
		{"partial rope", func(c *Config) { c.RopeDim = 4 }, ""},
		{"zero eps", func(c *Config) { c.NormEps = 0 }, "NormEps = 0"},
		{"nan eps", func(c *Config) { c.NormEps = float32(math.NaN()) }, "NormEps = NaN"},
		{"infinite theta", func(c *Config) { c.RopeTheta = float32(math.Inf(1)) }, "RopeTheta = +Inf"},
		{"llama3 scaling", func(c *Config) { c.RopeScale = RopeScaling{8, 1, 4, 8192} }, ""},
		{"llama3 scaling without context", func(c *Config) { c.RopeScale = RopeScaling{8, 1, 4, 0} }, "llama3 rope scaling"},
		{"llama3 scaling, high below low", func(c *Config) { c.RopeScale = RopeScaling{8, 4, 1, 8192} }, "llama3 rope scaling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Check(keys)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check: %v, want ErrBadModel mentioning %q", err, tt.want)
			}
		})
	}
}

func TestShapes(t *testing.T) {
	s := good.Shapes(Keys{KVHeads: "n_kv_heads"})
	for _, tt := range []struct {
		name       string
		got        Shape
		rows, cols int
	}{
		{"embedding", s.Embedding, 512, 64}, {"norm", s.Norm, 1, 64},
		{"wq", s.Wq, 64, 64}, {"wk", s.Wk, 32, 64}, {"wv", s.Wv, 32, 64}, {"wo", s.Wo, 64, 64},
		{"w1", s.W1, 172, 64}, {"w2", s.W2, 64, 172}, {"w3", s.W3, 172, 64},
	} {
		if tt.got.Rows != tt.rows || tt.got.Cols != tt.cols {
			t.Errorf("%s: %dx%d, want %dx%d", tt.name, tt.got.Rows, tt.got.Cols, tt.rows, tt.cols)
		}
		if err := tt.got.Check(tt.name, tt.rows, tt.cols); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	err := s.Wk.Check("k", 64, 64)
	if !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), `tensor "k" is 64x64, want 32x64 (rows n_kv_heads × HeadDim, cols Dim)`) {
		t.Errorf("Wk.Check: %v", err)
	}
	if err := s.Norm.Check("n", 1, 63); err == nil || !strings.Contains(err.Error(), "want a vector of 64") {
		t.Errorf("Norm.Check: %v", err)
	}
}

func TestCheckLayerCount(t *testing.T) {
	names := []string{"tok.weight", "blk.0.q", "blk.1.q", "blk.1.k", "blk.x.q", "blk.-3.q", "blkfoo"}
	tests := []struct {
		layers int
		names  []string
		want   string
	}{
		{2, names, ""},
		{3, names, "n = 3, but the file holds tensors for 2 layers"},
		{1, names, "n = 1, but the file holds tensors for 2 layers"},
		{1, []string{"tok.weight"}, "holds tensors for 0 layers"},
		{1, []string{"blk.99999999999999999999.q"}, "holds tensors for 0 layers"},
		{2, []string{"blk.9000.q"}, "holds tensors for 4097 layers"},
	}
	for _, tt := range tests {
		err := CheckLayerCount("n", tt.layers, "blk.", tt.names)
		if tt.want == "" && err != nil || tt.want != "" && (!errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckLayerCount(%d, %v) = %v, want %q", tt.layers, tt.names, err, tt.want)
		}
	}
}
