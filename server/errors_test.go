package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sieve/engine"
	"sieve/sparsity"
)

func TestErrors(t *testing.T) {
	const comp, chat = "/v1/completions", "/v1/chat/completions"
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		genErr   error
		status   int
		errType  string
		param    string // "<null>" for none
		code     string // "<null>" for none
		contains string // in the message
	}{
		{"malformed JSON", "POST", comp, `{"prompt": "x"`, nil, 400, typeInvalidRequest, "<null>", "<null>", "malformed JSON"},
		{"trailing garbage", "POST", comp, `{"prompt": "x"} {}`, nil, 400, typeInvalidRequest, "<null>", "<null>", "malformed JSON"},
		{"empty body", "POST", comp, ``, nil, 400, typeInvalidRequest, "<null>", "<null>", "empty"},
		{"text/plain body", "POST", comp, `{"prompt":"x"}`, nil, 415, typeInvalidRequest, "<null>", "unsupported_media_type", "text/plain"},
		{"body not an object", "POST", comp, `[1,2]`, nil, 400, typeInvalidRequest, "<null>", "<null>", "JSON object"},
		{"max_tokens wrong type", "POST", comp, `{"prompt":"x","max_tokens":"5"}`, nil, 400, typeInvalidRequest, "max_tokens", "<null>", "integer"},
		{"temperature wrong type", "POST", comp, `{"prompt":"x","temperature":"hot"}`, nil, 400, typeInvalidRequest, "temperature", "<null>", "number"},
		{"stream wrong type", "POST", comp, `{"prompt":"x","stream":"yes"}`, nil, 400, typeInvalidRequest, "stream", "<null>", "boolean"},
		{"prompt wrong type", "POST", comp, `{"prompt":5}`, nil, 400, typeInvalidRequest, "prompt", "<null>", "array of strings"},
		{"prompt mixed array", "POST", comp, `{"prompt":["a",1]}`, nil, 400, typeInvalidRequest, "prompt", "<null>", "prompt"},
		{"stop wrong type", "POST", comp, `{"prompt":"x","stop":7}`, nil, 400, typeInvalidRequest, "stop", "<null>", "string"},
		{"messages wrong type", "POST", chat, `{"messages":"hi"}`, nil, 400, typeInvalidRequest, "messages", "<null>", "array"},
		{"content wrong type", "POST", chat, `{"messages":[{"role":"user","content":5}]}`, nil, 400, typeInvalidRequest, "messages.content", "<null>", "content parts"},
		{"logprobs wrong type for chat", "POST", chat, `{` + msgs + `,"logprobs":3}`, nil, 400, typeInvalidRequest, "logprobs", "<null>", "boolean"},
		{"missing prompt", "POST", comp, `{"model":"test-model"}`, nil, 400, typeInvalidRequest, "prompt", "<null>", "required"},
		{"empty prompt", "POST", comp, `{"prompt":""}`, nil, 400, typeInvalidRequest, "prompt", "<null>", "empty"},
		{"empty prompt array", "POST", comp, `{"prompt":[]}`, nil, 400, typeInvalidRequest, "prompt", "<null>", "empty"},
		{"one of several prompts empty", "POST", comp, `{"prompt":["a",""]}`, nil, 400, typeInvalidRequest, "prompt", "<null>", "empty"},
		{"token id out of range", "POST", comp, `{"prompt":[1,99999]}`, nil, 400, typeInvalidRequest, "prompt", "<null>", "99999"},
		{"empty messages", "POST", chat, `{"messages":[]}`, nil, 400, typeInvalidRequest, "messages", "<null>", "empty"},
		{"missing messages", "POST", chat, `{}`, nil, 400, typeInvalidRequest, "messages", "<null>", "empty"},
		{"message without role", "POST", chat, `{"messages":[{"content":"x"}]}`, nil, 400, typeInvalidRequest, "messages[0].role", "<null>", "role"},
		{"image content part", "POST", chat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, nil, 400, typeInvalidRequest, "messages[0].content", "<null>", "image_url"},
		{"max_tokens zero", "POST", comp, `{"prompt":"x","max_tokens":0}`, nil, 400, typeInvalidRequest, "max_tokens", "<null>", "at least 1"},
		{"max_completion_tokens negative", "POST", chat, `{` + msgs + `,"max_completion_tokens":-3}`, nil, 400, typeInvalidRequest, "max_completion_tokens", "<null>", "at least 1"},
		{"prompt plus max_tokens over the context", "POST", comp, `{"prompt":"abcdefghi","max_tokens":60}`, nil, 400, typeInvalidRequest, "max_tokens", "context_length_exceeded",
			fmt.Sprintf("maximum context length is %d tokens, but you requested 60 tokens for the completion with 10 in the prompt; max_tokens can be at most 54", testContext)},
		{"max_tokens at the int64 limit", "POST", comp, `{"prompt":"x","max_tokens":9223372036854775807}`, nil, 400, typeInvalidRequest, "max_tokens", "context_length_exceeded",
			fmt.Sprintf("maximum context length is %d tokens, but you requested 9223372036854775807 tokens", testContext)},
		{"max_completion_tokens at the int64 limit", "POST", chat, `{` + msgs + `,"max_completion_tokens":9223372036854775807}`, nil, 400, typeInvalidRequest, "max_completion_tokens", "context_length_exceeded",
			"max_completion_tokens can be at most"},
		{"max_tokens beyond int64", "POST", comp, `{"prompt":"x","max_tokens":1e30}`, nil, 400, typeInvalidRequest, "max_tokens", "<null>", "integer"},
		{"unknown kv_policy", "POST", comp, `{"prompt":"x","kv_policy":"lru"}`, nil, 400, typeInvalidRequest, "kv_policy", "<null>", "unknown policy \"lru\""},
		{"engine spec error without internal prefixes", "POST", comp, `{"prompt":"x"}`, fmt.Errorf("%w: %w: budget 1e-05 keeps 1", engine.ErrBadRequest, sparsity.ErrBadSpec), 400, typeInvalidRequest, "kv_budget", "<null>", "budget 1e-05 keeps 1"},
		{"prompt alone over the context", "POST", chat, `{"messages":[{"role":"user","content":"` + strings.Repeat("z", testContext) + `"}]}`, nil, 400, typeInvalidRequest, "messages", "context_length_exceeded", "maximum context length is 64"},
		{"n above 128", "POST", comp, `{"prompt":"x","n":129}`, nil, 400, typeInvalidRequest, "n", "<null>", "between 1 and 128"},
		{"too many choices", "POST", comp, `{"prompt":["a","b","c"],"n":50}`, nil, 400, typeInvalidRequest, "n", "<null>", "at most 128 choices"},
		{"echo with logprobs", "POST", comp, `{"prompt":"x","echo":true,"logprobs":1}`, nil, 400, typeInvalidRequest, "echo", "<null>", "echo"},
		{"negative temperature", "POST", comp, `{"prompt":"x","temperature":-1}`, nil, 400, typeInvalidRequest, "temperature", "<null>", "temperature"},
		{"top_p zero", "POST", comp, `{"prompt":"x","top_p":0}`, nil, 400, typeInvalidRequest, "top_p", "<null>", "top_p"},
		{"top_k below -1", "POST", comp, `{"prompt":"x","top_k":-2}`, nil, 400, typeInvalidRequest, "top_k", "<null>", "top_k"},
		{"too many stop strings", "POST", comp, `{"prompt":"x","stop":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`, nil, 400, typeInvalidRequest, "stop", "<null>", "16"},
		{"empty stop string", "POST", comp, `{"prompt":"x","stop":["a",""]}`, nil, 400, typeInvalidRequest, "stop", "<null>", "stop string 1 must be 1 to 256 bytes"},
		{"long stop string", "POST", comp, `{"prompt":"x","stop":"` + strings.Repeat("s", 257) + `"}`, nil, 400, typeInvalidRequest, "stop", "<null>", "got 257"},
		{"too many messages", "POST", chat, `{"messages":[` + strings.Repeat(`{"role":"user","content":""},`, 1024) + `{"role":"user","content":""}]}`, nil, 400, typeInvalidRequest, "messages", "<null>", "at most 1024 messages"},
		{"top_logprobs over 20", "POST", chat, `{` + msgs + `,"logprobs":true,"top_logprobs":21}`, nil, 400, typeInvalidRequest, "top_logprobs", "<null>", "20"},
		{"negative logprobs", "POST", comp, `{"prompt":"x","logprobs":-1}`, nil, 400, typeInvalidRequest, "logprobs", "<null>", "between 0 and 20"},
		{"n zero", "POST", chat, `{` + msgs + `,"n":0}`, nil, 400, typeInvalidRequest, "n", "<null>", "between 1 and 128"},
		{"audio content part", "POST", chat, `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"input_audio"}]}]}`, nil, 400, typeInvalidRequest, "messages[0].content", "<null>", "only \"text\" parts"},
		{"logprobs over 20", "POST", comp, `{"prompt":"x","logprobs":21}`, nil, 400, typeInvalidRequest, "logprobs", "<null>", "20"},
		{"top_logprobs without logprobs", "POST", chat, `{` + msgs + `,"top_logprobs":2}`, nil, 400, typeInvalidRequest, "top_logprobs", "<null>", "logprobs"},
		{"template raises", "POST", chat, `{"messages":[{"role":"developer","content":"x"}]}`, nil, 400, typeInvalidRequest, "messages", "<null>", "no developer role"},
		{"unknown model", "POST", comp, `{"model":"gpt-4","prompt":"x"}`, nil, 404, typeNotFound, "model", "model_not_found", "gpt-4"},
		{"unknown model for chat", "POST", chat, `{"model":"gpt-4",` + msgs + `}`, nil, 404, typeNotFound, "model", "model_not_found", "gpt-4"},
		{"queue full", "POST", comp, `{"prompt":"x"}`, fmt.Errorf("%w: 256 waiting", engine.ErrQueueFull), 429, typeRateLimit, "<null>", "queue_full", "capacity"},
		{"engine too long", "POST", chat, `{` + msgs + `}`, fmt.Errorf("%w: pool too small", engine.ErrTooLong), 400, typeInvalidRequest, "<null>", "context_length_exceeded", "pool too small"},
		{"engine bad request", "POST", comp, `{"prompt":"x"}`, fmt.Errorf("%w: nope", engine.ErrBadRequest), 400, typeInvalidRequest, "<null>", "<null>", "nope"},
		{"engine closed", "POST", comp, `{"prompt":"x"}`, engine.ErrClosed, 503, typeUnavailable, "<null>", "shutting_down", "shutting down"},
		{"wrong method on completions", "GET", comp, ``, nil, 405, typeInvalidRequest, "<null>", "method_not_allowed", "POST"},
		{"wrong method on models", "DELETE", "/v1/models", ``, nil, 405, typeInvalidRequest, "<null>", "method_not_allowed", "GET"},
		{"wrong method on health", "POST", "/health", `{}`, nil, 405, typeInvalidRequest, "<null>", "method_not_allowed", "GET"},
		{"unknown path", "GET", "/v1/embeddings", ``, nil, 404, typeNotFound, "<null>", "not_found", "/v1/embeddings"},
		{"unknown root path", "POST", "/completions", `{}`, nil, 404, typeNotFound, "<null>", "not_found", "/completions"},
	}
	h := newHarness(t, Config{}, false)
	h.ready(`{% for m in messages %}{% if m.role == 'developer' %}{{ raise_exception('no developer role') }}{% endif %}{{ m.content }}{% endfor %}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.gen.set(func(g *fakeGen) { g.err = tt.genErr })
			var header []string
			if tt.status == http.StatusUnsupportedMediaType {
				header = []string{"Content-Type", "text/plain"}
			}
			resp, body := h.do(tt.method, tt.path, tt.body, header...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			e := errorOf(t, body)
			if e.Type != tt.errType || deref(e.Param) != tt.param || deref(e.Code) != tt.code {
				t.Errorf("error = type %q param %q code %q, want %q %q %q", e.Type, deref(e.Param), deref(e.Code), tt.errType, tt.param, tt.code)
			}
			if !strings.Contains(e.Message, tt.contains) {
				t.Errorf("message %q does not contain %q", e.Message, tt.contains)
			}
			for _, internal := range []string{"engine:", "sparsity:", "-9223372036854775"} {
				if strings.Contains(e.Message, internal) {
					t.Errorf("message %q leaks %q", e.Message, internal)
				}
			}
			if retry := resp.Header.Get("Retry-After"); (tt.status == 429 || tt.status == 503) != (retry != "") {
				t.Errorf("Retry-After = %q on a %d", retry, tt.status)
			}
		})
	}
	if resp, _ := h.do("GET", "/v1/completions", ""); resp.Header.Get("Allow") != "POST" {
		t.Errorf("405 Allow header = %q", resp.Header.Get("Allow"))
	}
}

func TestBodyTooLarge(t *testing.T) {
	tests := []struct {
		name  string
		limit int64
		size  int
	}{
		{"default 4 MiB limit", 0, DefaultMaxBodyBytes + 10},
		{"configured limit", 1000, 1001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{MaxBodyBytes: tt.limit}, true)
			body := `{"prompt":"` + strings.Repeat("a", tt.size) + `"}`
			resp, b := h.post("/v1/completions", body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %.200s", resp.StatusCode, b)
			}
			if e := errorOf(t, b); deref(e.Code) != "request_too_large" {
				t.Errorf("code = %q", deref(e.Code))
			}
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) { g.panicMsg = "boom" })
	resp, body := h.post("/v1/completions", `{"prompt":"x"}`)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if e := errorOf(t, body); e.Type != typeServer {
		t.Errorf("error type %q", e.Type)
	}
	if !strings.Contains(h.logs.String(), "boom") {
		t.Error("the panic is not logged")
	}
	h.gen.set(func(g *fakeGen) { g.panicMsg = "" })
	if resp, body := h.post("/v1/completions", `{"prompt":"x"}`); resp.StatusCode != http.StatusOK {
		t.Errorf("after a panic: status %d: %s", resp.StatusCode, body)
	}
}

func TestGenerationError(t *testing.T) {
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) {
		g.script = func(engine.Request) []engine.Event {
			return []engine.Event{{Text: "par"}, {Finish: engine.FinishError, Err: fmt.Errorf("kernel exploded")}}
		}
	})
	resp, body := h.post("/v1/completions", `{"prompt":"x"}`)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(errorOf(t, body).Message, "kernel exploded") {
		t.Errorf("non-stream: %d %s", resp.StatusCode, body)
	}
	resp, body = h.post("/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"stream":true}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	events := sseEvents(t, body)
	if len(events) < 3 || events[len(events)-1] != "[DONE]" || !strings.Contains(events[len(events)-2], "kernel exploded") {
		t.Errorf("stream events %q: want an error event before [DONE]", events)
	}
	errorOf(t, []byte(events[len(events)-2]))
}

func TestAPIKey(t *testing.T) {
	h := newHarness(t, Config{APIKey: "sekret"}, true)
	tests := []struct {
		name   string
		method string
		path   string
		auth   string
		status int
	}{
		{"no key", "POST", "/v1/completions", "", 401},
		{"wrong key", "POST", "/v1/completions", "Bearer nope", 401},
		{"key without Bearer", "POST", "/v1/completions", "sekret", 401},
		{"right key", "POST", "/v1/completions", "Bearer sekret", 200},
		{"scheme in lower case", "POST", "/v1/completions", "bearer sekret", 200},
		{"scheme in upper case", "POST", "/v1/completions", "BEARER sekret", 200},
		{"other scheme", "POST", "/v1/completions", "Basic sekret", 401},
		{"key with a suffix", "POST", "/v1/completions", "Bearer sekret2", 401},
		{"key prefix", "POST", "/v1/completions", "Bearer sekre", 401},
		{"model card needs the key", "GET", "/v1/models/test-model", "", 401},
		{"unknown /v1/ path needs the key", "GET", "/v1/embeddings", "", 401},
		{"unknown /v1/ path with the key", "GET", "/v1/embeddings", "Bearer sekret", 404},
		{"unknown root path stays 404", "GET", "/nope", "", 404},
		{"models need the key", "GET", "/v1/models", "", 401},
		{"models with the key", "GET", "/v1/models", "Bearer sekret", 200},
		{"chat needs the key", "POST", "/v1/chat/completions", "", 401},
		{"health stays open", "GET", "/health", "", 200},
		{"metrics stay open", "GET", "/metrics", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"prompt":"x","messages":[{"role":"user","content":"x"}]}`
			if tt.method == "GET" {
				body = ""
			}
			resp, b := h.do(tt.method, tt.path, body, "Authorization", tt.auth)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.status == 401 {
				if e := errorOf(t, b); e.Type != typeAuthentication || deref(e.Code) != "invalid_api_key" {
					t.Errorf("error = %+v", e)
				}
			}
		})
	}
}

func TestContentType(t *testing.T) {
	h := newHarness(t, Config{}, true)
	tests := []struct {
		contentType string
		status      int
	}{
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"Application/JSON", 200},
		{"application/vnd.sieve+json", 200},
		{"text/plain", 415},
		{"text/plain; charset=utf-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"", 415}, // no header: a browser's Blob body goes out without a preflight too
		{"application/json;;", 415},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
			resp, body := h.do(http.MethodPost, path, `{"prompt":"x","messages":[{"role":"user","content":"x"}]}`, "Content-Type", tt.contentType)
			if resp.StatusCode != tt.status {
				t.Errorf("POST %s with Content-Type %q = %d %s, want %d", path, tt.contentType, resp.StatusCode, body, tt.status)
			}
			if tt.status == 415 && deref(errorOf(t, body).Code) != "unsupported_media_type" {
				t.Errorf("415 body %s", body)
			}
		}
	}
}
