package server

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name, body string
		want       tokenizeResponse
	}{
		{"prompt with BOS", `{"prompt":"hi"}`, tokenizeResponse{Count: 3, MaxModelLen: testContext, Tokens: []int32{byteBOS, 'h', 'i'}}},
		{"prompt without special tokens", `{"prompt":"hi","add_special_tokens":false}`, tokenizeResponse{Count: 2, MaxModelLen: testContext, Tokens: []int32{'h', 'i'}}},
		{"special text stays plain", `{"prompt":"</s>","add_special_tokens":false}`, tokenizeResponse{Count: 4, MaxModelLen: testContext, Tokens: []int32{'<', '/', 's', '>'}}},
		{"token strings", `{"prompt":"a","return_token_strs":true}`, tokenizeResponse{Count: 2, MaxModelLen: testContext, Tokens: []int32{byteBOS, 'a'}, TokenStrs: []string{"<s>", "a"}}},
		{"empty prompt", `{"prompt":""}`, tokenizeResponse{Count: 1, MaxModelLen: testContext, Tokens: []int32{byteBOS}}},
		{"messages as chat renders them", `{"messages":[{"role":"user","content":"hi"}]}`, tokenizeResponse{Count: 20, MaxModelLen: testContext,
			Tokens: append([]int32{byteBOS}, []int32("user: hi\nassistant:")...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, true)
			resp, body := h.post("/tokenize", tt.body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := decode[tokenizeResponse](t, body); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDetokenize(t *testing.T) {
	h := newHarness(t, Config{}, true)
	resp, body := h.post("/detokenize", `{"tokens":[256,72,105,257]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := decode[detokenizeResponse](t, body); got.Prompt != "Hi" {
		t.Errorf("prompt %q, want %q", got.Prompt, "Hi")
	}
}

func TestTokenizeErrors(t *testing.T) {
	tests := []struct {
		name, path, body, param string
	}{
		{"detokenize id past the vocabulary", "/detokenize", `{"tokens":[1,262]}`, "tokens"},
		{"detokenize negative id", "/detokenize", `{"tokens":[-1]}`, "tokens"},
		{"detokenize wrong type", "/detokenize", `{"tokens":"abc"}`, "tokens"},
		{"prompt and messages", "/tokenize", `{"prompt":"a","messages":[{"role":"user","content":"b"}]}`, "messages"},
		{"neither", "/tokenize", `{}`, "messages"},
		{"bad tool", "/tokenize", `{"messages":[{"role":"user","content":"b"}],"tools":[{"type":"function","function":{"name":"a b"}}]}`, "tools[0].function.name"},
		{"other model", "/tokenize", `{"model":"gpt-4","prompt":"a"}`, "model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, true)
			resp, body := h.post(tt.path, tt.body)
			if resp.StatusCode/100 != 4 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if e := errorOf(t, body); deref(e.Param) != tt.param {
				t.Errorf("param %q, want %q (%s)", deref(e.Param), tt.param, e.Message)
			}
		})
	}
}

func TestTokenizeNeedsTheKey(t *testing.T) {
	h := newHarness(t, Config{APIKey: "k"}, true)
	if resp, _ := h.post("/tokenize", `{"prompt":"a"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d without the key, want 401", resp.StatusCode)
	}
	if resp, _ := h.do(http.MethodGet, "/version", ""); resp.StatusCode != 200 {
		t.Errorf("/version status %d without the key, want 200", resp.StatusCode)
	}
}

func TestVersion(t *testing.T) {
	h := newHarness(t, Config{}, false)
	resp, body := h.do(http.MethodGet, "/version", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if v := decode[map[string]string](t, body)["version"]; v == "" || strings.ContainsAny(v, " \n") {
		t.Errorf("version %q", v)
	}
}
