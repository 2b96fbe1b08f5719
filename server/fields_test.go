package server

import (
	"reflect"
	"strings"
	"testing"
)

func TestRefusedFieldsAreNamed(t *testing.T) {
	const comp, chat = "/v1/completions", "/v1/chat/completions"
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	for _, c := range []struct {
		name, path, body string
		param            string // "" when the request must succeed
	}{
		{"suffix", comp, `{"prompt":"x","suffix":"end"}`, "suffix"},
		{"empty suffix", comp, `{"prompt":"x","suffix":""}`, ""},
		{"null suffix", comp, `{"prompt":"x","suffix":null}`, ""},
		{"best_of 2", comp, `{"prompt":"x","best_of":2}`, "best_of"},
		{"best_of 1", comp, `{"prompt":"x","best_of":1}`, ""},
		{"echo on chat", chat, `{` + msgs + `,"echo":true}`, "echo"},
		{"functions", chat, `{` + msgs + `,"functions":[{"name":"f"}]}`, "functions"},
		{"audio", chat, `{` + msgs + `,"audio":{"voice":"alloy"}}`, "audio"},
		{"modalities text", chat, `{` + msgs + `,"modalities":["text"]}`, ""},
		{"modalities audio", chat, `{` + msgs + `,"modalities":["text","audio"]}`, "modalities"},
		{"use_beam_search", comp, `{"prompt":"x","use_beam_search":true}`, "use_beam_search"},
		{"store true", chat, `{` + msgs + `,"store":true}`, "store"},
		{"user and metadata", chat, `{` + msgs + `,"user":"u1","metadata":{"k":"v"}}`, ""},
		{"response_format is known", chat, `{` + msgs + `,"response_format":{"type":"text"}}`, ""},
		{"logit_bias not an id", comp, `{"prompt":"x","logit_bias":{"abc":1}}`, "logit_bias"},
		{"logit_bias outside the vocabulary", chat, `{` + msgs + `,"logit_bias":{"262":1}}`, "logit_bias"},
		{"logit_bias negative id", comp, `{"prompt":"x","logit_bias":{"-1":1}}`, "logit_bias"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{}, true)
			resp, body := h.post(c.path, c.body)
			if c.param == "" {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			e := errorOf(t, body)
			if deref(e.Param) != c.param || !strings.Contains(e.Message, c.param) {
				t.Errorf("error %+v does not name %q", e, c.param)
			}
		})
	}
}

func TestUnknownFieldsAreWarnedOnce(t *testing.T) {
	h := newHarness(t, Config{}, true)
	for range 3 {
		resp, body := h.post("/v1/completions", `{"prompt":"x","frobnicate":1,"zap":"y"}`)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "level=WARN msg=\"ignoring an unknown request field (logged once per name)\""); n != 2 {
		t.Errorf("%d unknown-field warnings, want one per name: %s", n, logs)
	}
	for _, name := range []string{"frobnicate", "zap"} {
		if !strings.Contains(logs, "field="+name) {
			t.Errorf("no warning names %q", name)
		}
	}
	if strings.Contains(logs, "field=prompt") {
		t.Errorf("a known field was warned about: %s", logs)
	}
}

func TestUnknownFieldMemoryIsBounded(t *testing.T) {
	var u unknownFields
	for i := range maxWarnedFields + 50 {
		u.first(strings.Repeat("f", i+1))
	}
	if len(u.seen) != maxWarnedFields {
		t.Errorf("remembers %d names, want at most %d", len(u.seen), maxWarnedFields)
	}
}

func TestLogitBiasReachesTheEngine(t *testing.T) {
	for _, c := range []struct {
		name, path, body string
	}{
		{"completions", "/v1/completions", `{"prompt":"x","logit_bias":{"65":250,"66":-3.5,"257":-1000}}`},
		{"chat", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"logit_bias":{"65":250,"66":-3.5,"257":-1000}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{}, true)
			if resp, body := h.post(c.path, c.body); resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			want := map[int32]float32{65: 100, 66: -3.5, 257: -100}
			if got := h.gen.last().Params.LogitBias; !reflect.DeepEqual(got, want) {
				t.Errorf("logit bias %v, want %v (clamped to ±100)", got, want)
			}
		})
	}
}

func TestMaxCompletionTokensOnCompletions(t *testing.T) {
	h := newHarness(t, Config{}, true)
	if resp, body := h.post("/v1/completions", `{"prompt":"x","max_tokens":3,"max_completion_tokens":9}`); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := h.gen.last().MaxTokens; got != 9 {
		t.Errorf("MaxTokens %d, want max_completion_tokens' 9", got)
	}
	resp, body := h.post("/v1/completions", `{"prompt":"x","max_completion_tokens":0}`)
	if e := errorOf(t, body); resp.StatusCode != 400 || deref(e.Param) != "max_completion_tokens" {
		t.Errorf("status %d, error %+v; want a 400 naming max_completion_tokens", resp.StatusCode, e)
	}
}
