package server

import (
	"net/http"
	"strings"
	"testing"
)

// longStory is a prompt of several KV blocks for stories260K.
const longStory = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. " +
	"One day, she saw a big red ball under a tree and she wanted to play with it."

func TestCachedTokensReported(t *testing.T) {
	h := newRealHarness(t)
	completion := `{"prompt":"` + longStory + `","max_tokens":8,"temperature":0}`
	chat := `{"messages":[{"role":"user","content":"` + longStory + `"}],"max_tokens":8,"temperature":0}`
	tests := []struct {
		name, path, body string
		stream           bool
	}{
		{"completion", "/v1/completions", completion, false},
		{"chat", "/v1/chat/completions", chat, false},
		{"completion stream", "/v1/completions", strings.Replace(completion, "{", `{"stream":true,"stream_options":{"include_usage":true},`, 1), true},
		{"chat stream", "/v1/chat/completions", strings.Replace(chat, "{", `{"stream":true,"stream_options":{"include_usage":true},`, 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cached []int
			for range 2 {
				resp, body := h.post(tt.path, tt.body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if tt.stream {
					events := sseEvents(t, body)
					body = []byte(events[len(events)-2]) // the usage chunk, before [DONE]
				}
				if !strings.Contains(string(body), `"prompt_tokens_details":{"cached_tokens":`) {
					t.Fatalf("no prompt_tokens_details in %s", body)
				}
				u := decode[completionResponse](t, body).Usage
				cached = append(cached, u.PromptTokensDetails.CachedTokens)
				if u.PromptTokensDetails.CachedTokens >= u.PromptTokens {
					t.Fatalf("%d of %d prompt tokens cached", u.PromptTokensDetails.CachedTokens, u.PromptTokens)
				}
			}
			if cached[1] < 32 {
				t.Errorf("cached tokens %v: the repeated prompt was not served from the cache", cached)
			}
		})
	}
	if !strings.Contains(h.logs.String(), "prefix_caching=true") {
		t.Error("the engine's startup log does not say prefix caching is on")
	}
	_, body := h.do(http.MethodGet, "/metrics", "")
	if hits := metricValue(t, string(body), `vllm:prefix_cache_hits_total{model_name="stories260K"}`); hits < 4*32 {
		t.Errorf("prefix cache hits %g", hits)
	}
}
