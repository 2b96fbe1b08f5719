package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sieve/kvcache"
)

func TestParseKVDType(t *testing.T) {
	for _, name := range []string{"f16", "bf16", "f32", "q8_0", "q4_0"} {
		if dt, err := ParseKVDType(name); err != nil || dt.String() != name {
			t.Errorf("ParseKVDType(%q) = %v, %v", name, dt, err)
		}
	}
	_, err := ParseKVDType("fp8")
	if !errors.Is(err, ErrKVDType) {
		t.Fatalf("fp8: %v, want ErrKVDType", err)
	}
	for _, name := range []string{"f16", "bf16", "f32", "q8_0", "q4_0"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error %q does not list %s", err, name)
		}
	}
}

// TestKVDTypeRefusedForHeadDim checks that a quantized type whose blocks
// the head dimension cannot hold is refused at start, with the reason.
func TestKVDTypeRefusedForHeadDim(t *testing.T) {
	c := tinyConfig
	c.HeadDim, c.Heads, c.KVHeads, c.Dim, c.RopeDim = 24, 4, 2, 96, 24
	m := tinyModel(t, c, 3)
	_, err := New(m, nil, Config{Threads: 1, KVCacheMiB: 4, KVValueDType: "q8_0"}, nil)
	if !errors.Is(err, kvcache.ErrDType) || !strings.Contains(err.Error(), "head dimension is 24") {
		t.Fatalf("q8_0 values with head dim 24: %v", err)
	}
	_, err = New(m, nil, Config{Threads: 1, KVCacheMiB: 4, KVDType: "q5_0"}, nil)
	if !errors.Is(err, ErrKVDType) {
		t.Fatalf("q5_0: %v", err)
	}
}

// TestQuantizedKVHoldsMoreTokens checks that the same pool holds more
// tokens with a smaller type, and that generation runs on it.
func TestQuantizedKVHoldsMoreTokens(t *testing.T) {
	m := tinyModel(t, wideConfig, 5)
	var prev int
	for _, dt := range []string{"f32", "f16", "q8_0", "q4_0"} {
		e := newEngine(t, m, nil, Config{KVCacheMiB: 1, KVDType: dt})
		capacity := e.Stats().KVCapacityTokens
		if capacity <= prev || capacity != e.MaxSequenceTokens() {
			t.Fatalf("%s: capacity %d tokens (max sequence %d), after %d", dt, capacity, e.MaxSequenceTokens(), prev)
		}
		prev = capacity
		ch, err := e.Submit(context.Background(), Request{Prompt: []int32{1, 5, 9, 14}, MaxTokens: 20, IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		if r := collect(t, ch); len(r.tokens) != 20 {
			t.Fatalf("%s: %d tokens", dt, len(r.tokens))
		}
	}
}
