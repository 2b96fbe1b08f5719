package eval

import (
	"context"
	"testing"

	"sieve/tokenizer"
)

// TestDivergenceKVTypes scores stories260K with quantized KV caches
// against the f32 reference. Under full, KL is above 0 (the quantization
// is active) and within a bound per type: small for q8_0 and for q4_0
// values, large for q4_0 keys (4 bits per value lose the keys' large
// channels); with the reference on the same storage, full has KL 0.
func TestDivergenceKVTypes(t *testing.T) {
	m := stories260K(t)
	texts, err := Windows(m.Tokenizer, stories(t), 160, 160)
	if err != nil {
		t.Fatal(err)
	}
	greedy := m.Tokenizer.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true})
	tests := []struct {
		kv           KVTypes
		maxKL, minT1 float64
	}{
		{KVTypes{Key: "q8_0", Value: "q8_0"}, 0.002, 0.95},
		{KVTypes{Key: "q8_0", Value: "q4_0"}, 0.01, 0.9},
		{KVTypes{Key: "q4_0", Value: "q4_0"}, 2, 0},
	}
	kl := map[string]float64{}
	for _, tt := range tests {
		cfg := DivergenceConfig{Texts: texts[:2], Policies: []string{"full", "h2o"}, Budgets: []float64{0.5},
			GreedyPrompt: greedy, GreedyTokens: 40, Threads: 2, KV: tt.kv, RefKV: KVTypes{Key: "f32", Value: "f32"}}
		res, err := Divergence(context.Background(), m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		full := res[0]
		t.Logf("%v: full KL %.6f top-1 %.4f greedy %.4f; h2o KL %.6f", tt.kv, full.KL, full.Top1Agreement, full.GreedyAgreement, res[1].KL)
		if !(full.KL > 0 && full.KL < tt.maxKL) || full.Top1Agreement < tt.minT1 {
			t.Errorf("%v under full: KL %v, top-1 %v; want in (0, %v) and at least %v", tt.kv, full.KL, full.Top1Agreement, tt.maxKL, tt.minT1)
		}
		if res[1].KL <= 0 {
			t.Errorf("%v under h2o: KL %v", tt.kv, res[1].KL)
		}
		kl[tt.kv.String()] = full.KL
	}
	if kl["q4_0"] <= kl["q8_0/q4_0"] || kl["q8_0/q4_0"] <= kl["q8_0"] {
		t.Errorf("KL not ordered by bits: %v", kl)
	}
	cfg := DivergenceConfig{Texts: texts[:1], Policies: []string{"full"}, Budgets: []float64{0.5}, Threads: 2, KV: KVTypes{Key: "q8_0", Value: "q8_0"}}
	res, err := Divergence(context.Background(), m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].KL != 0 {
		t.Errorf("q8_0 against itself: KL %v", res[0].KL)
	}
	if _, err := Divergence(context.Background(), m, DivergenceConfig{Texts: texts[:1], Policies: []string{"full"}, Budgets: []float64{0.5},
		KV: KVTypes{Key: "fp8"}}); err == nil {
		t.Error("an unknown KV type was accepted")
	}
}
