package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestKVPolicyPerRequest(t *testing.T) {
	h := newRealHarness(t)
	const layers = 5 // stories260K
	tests := []struct {
		name      string
		body      string
		status    int
		evictions bool
		minimum   string // in the message of a refused budget
	}{
		{"server default is full", `{"prompt":"Once upon a time","max_tokens":100,"temperature":0}`, http.StatusOK, false, ""},
		{"window evicts", `{"prompt":"Once upon a time","max_tokens":100,"temperature":0,"kv_policy":"window","kv_budget":32}`, http.StatusOK, true, ""},
		{"h2o with a fraction", `{"prompt":"Once upon a time","max_tokens":100,"temperature":0,"kv_policy":"h2o","kv_budget":0.25}`, http.StatusOK, true, ""},
		{"budget above the request keeps all", `{"prompt":"Once upon a time","max_tokens":100,"temperature":0,"kv_policy":"h2o","kv_budget":400}`, http.StatusOK, false, ""},
		{"unknown policy", `{"prompt":"Once upon a time","max_tokens":10,"kv_policy":"lru"}`, http.StatusBadRequest, false, ""},
		{"negative budget", `{"prompt":"Once upon a time","max_tokens":10,"kv_policy":"h2o","kv_budget":-1}`, http.StatusBadRequest, false, ""},
		{"fraction below sinks + window", `{"prompt":"Once upon a time","max_tokens":100,"kv_policy":"h2o","kv_budget":0.00001}`, http.StatusBadRequest, false, "minimum of 5"},
		{"snapkv budget below sinks + observation window", `{"prompt":"Once upon a time","max_tokens":100,"kv_policy":"snapkv","kv_budget":10}`, http.StatusBadRequest, false, "minimum of 36 tokens"},
		{"content-aware sinks", `{"prompt":"Once upon a time","max_tokens":100,"temperature":0,"kv_policy":"window","kv_budget":32,"kv_sink_tokens":[13,1]}`, http.StatusOK, true, ""},
		{"negative sink token", `{"prompt":"Once upon a time","max_tokens":10,"kv_policy":"window","kv_budget":32,"kv_sink_tokens":[-1]}`, http.StatusBadRequest, false, ""},
		{"budget of the wrong type", `{"prompt":"Once upon a time","max_tokens":10,"kv_policy":"h2o","kv_budget":"lots"}`, http.StatusBadRequest, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.post("/v1/completions", tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != http.StatusOK {
				if msg := errorOf(t, body).Message; strings.Contains(msg, "engine:") || strings.Contains(msg, "sparsity:") {
					t.Errorf("message %q leaks internal prefixes", msg)
				}
				if !strings.Contains(errorOf(t, body).Message, tt.minimum) {
					t.Errorf("message %s does not name the minimum", body)
				}
				return
			}
			u := decode[completionResponse](t, body).Usage
			cached := layers * (u.PromptTokens + u.CompletionTokens - 1)
			if u.KVTokensKept+u.KVTokensEvicted < cached-layers || u.KVTokensKept+u.KVTokensEvicted > cached+layers {
				t.Errorf("kept %d + evicted %d, want about %d (every cached token, every layer)", u.KVTokensKept, u.KVTokensEvicted, cached)
			}
			if (u.KVTokensEvicted > 0) != tt.evictions {
				t.Errorf("evicted %d tokens; want evictions: %v", u.KVTokensEvicted, tt.evictions)
			}
		})
	}
}
