package server

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"sieve/engine"
)

func TestCompletion(t *testing.T) {
	h := newHarness(t, Config{}, true)
	resp, body := h.post("/v1/completions", map[string]any{
		"model": "test-model", "prompt": "Once upon", "max_tokens": 7, "temperature": 0.5, "top_p": 0.9,
		"top_k": 40, "min_p": 0.05, "seed": 42, "stop": "\n", "presence_penalty": 0.5, "frequency_penalty": -0.5,
		"repetition_penalty": 1.1, "user": "ignored-unknown-field", "n": 1,
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	got := decode[completionResponse](t, body)
	if !strings.HasPrefix(got.ID, "cmpl-") || got.Object != "text_completion" || got.Model != "test-model" || got.Created == 0 {
		t.Errorf("header fields = %+v", got)
	}
	if len(got.Choices) != 1 || got.Choices[0].Text != "Hello world" || deref(got.Choices[0].FinishReason) != "stop" ||
		got.Choices[0].Logprobs != nil {
		t.Errorf("choices = %+v", got.Choices)
	}
	if got.Usage == nil || *got.Usage != (usage{PromptTokens: 10, CompletionTokens: 3, TotalTokens: 13}) {
		t.Errorf("usage = %+v", got.Usage)
	}
	req := h.gen.last()
	if spell(req.Prompt) != "<s>Once upon" {
		t.Errorf("prompt tokens spell %q, want BOS + text", spell(req.Prompt))
	}
	want := engine.SamplingParams{Temperature: 0.5, TopP: 0.9, TopK: 40, MinP: 0.05, Seed: 42,
		PresencePenalty: 0.5, FrequencyPenalty: -0.5, RepetitionPenalty: 1.1}
	if !reflect.DeepEqual(req.Params, want) {
		t.Errorf("params = %+v, want %+v", req.Params, want)
	}
	if req.MaxTokens != 7 || !slices.Equal(req.Stop, []string{"\n"}) || req.Logprobs || req.ID == "" {
		t.Errorf("request = %+v", req)
	}
}

func TestCompletionPromptForms(t *testing.T) {
	h := newHarness(t, Config{}, true)
	tests := []struct {
		name  string
		body  string
		spell string
		max   int
	}{
		{"string", `{"prompt":"ab"}`, "<s>ab", defaultCompletionTokens},
		{"array of one string", `{"prompt":["ab"]}`, "<s>ab", defaultCompletionTokens},
		{"token ids", `{"prompt":[256,97,98]}`, "<s>ab", defaultCompletionTokens},
		{"array of token ids", `{"prompt":[[97,98]]}`, "ab", defaultCompletionTokens},
		{"special text stays text", `{"prompt":"<s>x"}`, "<s><s>x", defaultCompletionTokens},
		{"default max_tokens clamped to the context", `{"prompt":"` + strings.Repeat("a", testContext-5) + `"}`,
			"<s>" + strings.Repeat("a", testContext-5), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.post("/v1/completions", tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			req := h.gen.last()
			if got := spell(req.Prompt); got != tt.spell {
				t.Errorf("prompt = %q, want %q", got, tt.spell)
			}
			if req.MaxTokens != tt.max {
				t.Errorf("max tokens = %d, want %d", req.MaxTokens, tt.max)
			}
		})
	}
}

func TestCompletionEcho(t *testing.T) {
	h := newHarness(t, Config{}, true)
	resp, body := h.post("/v1/completions", `{"prompt":"Say: ","echo":true}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := decode[completionResponse](t, body).Choices[0].Text; got != "Say: Hello world" {
		t.Errorf("echoed text = %q", got)
	}
}

func TestCompletionStream(t *testing.T) {
	tests := []struct {
		name         string
		includeUsage bool
	}{
		{"without usage", false},
		{"with usage", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, true)
			resp, body := h.post("/v1/completions", map[string]any{
				"prompt": "hi", "stream": true, "stream_options": map[string]bool{"include_usage": tt.includeUsage},
			})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, Content-Type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			events := sseEvents(t, body)
			if events[len(events)-1] != "[DONE]" {
				t.Fatalf("last event %q, want [DONE]", events[len(events)-1])
			}
			var text strings.Builder
			var finish []string
			var usages []*usage
			for _, data := range events[:len(events)-1] {
				c := decode[completionResponse](t, []byte(data))
				if !strings.HasPrefix(c.ID, "cmpl-") || c.Object != "text_completion" || c.Model != "test-model" {
					t.Errorf("chunk header %+v", c)
				}
				if c.Usage != nil {
					usages = append(usages, c.Usage)
					if len(c.Choices) != 0 {
						t.Errorf("usage chunk has choices %+v", c.Choices)
					}
					continue
				}
				for _, ch := range c.Choices {
					text.WriteString(ch.Text)
					if ch.FinishReason != nil {
						finish = append(finish, *ch.FinishReason)
					}
				}
			}
			if text.String() != "Hello world" || !slices.Equal(finish, []string{"stop"}) {
				t.Errorf("streamed %q, finish %v", text.String(), finish)
			}
			switch {
			case tt.includeUsage && (len(usages) != 1 || *usages[0] != usage{PromptTokens: 3, CompletionTokens: 3, TotalTokens: 6}):
				t.Errorf("usage chunks %v, want one with 3+3", usages)
			case !tt.includeUsage && len(usages) != 0:
				t.Errorf("usage chunks %v without include_usage", usages)
			}
		})
	}
}

// TestStreamKeepsEngineText checks that each engine event's text reaches
// the client as one chunk, unchanged: multi-byte characters are never split.
func TestStreamKeepsEngineText(t *testing.T) {
	pieces := []string{"héllo", " 😀", "", " ☃!", "日本"}
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) {
		g.script = func(r engine.Request) []engine.Event {
			var evs []engine.Event
			for i, p := range pieces {
				evs = append(evs, engine.Event{Tokens: []int32{int32(i)}, Text: p})
			}
			return append(evs, engine.Event{Finish: engine.FinishLength})
		}
	})
	for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
		resp, body := h.post(path, `{"prompt":"x","messages":[{"role":"user","content":"x"}],"stream":true}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
		}
		var got []string
		for _, data := range sseEvents(t, body) {
			if data == "[DONE]" {
				continue
			}
			var c struct {
				Choices []struct {
					Text  *string `json:"text"`
					Delta *struct {
						Content *string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				t.Fatal(err)
			}
			for _, ch := range c.Choices {
				switch {
				case ch.Text != nil && *ch.Text != "":
					got = append(got, *ch.Text)
				case ch.Delta != nil && ch.Delta.Content != nil && *ch.Delta.Content != "":
					got = append(got, *ch.Delta.Content)
				}
			}
		}
		want := slices.DeleteFunc(slices.Clone(pieces), func(s string) bool { return s == "" })
		if !slices.Equal(got, want) {
			t.Errorf("%s: chunks %q, want %q", path, got, want)
		}
		for _, g := range got {
			if !utf8.ValidString(g) {
				t.Errorf("%s: chunk %q is not valid UTF-8", path, g)
			}
		}
	}
}

func TestLogprobs(t *testing.T) {
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) {
		g.script = func(r engine.Request) []engine.Event {
			lp := func(text string, v float32) engine.TokenLogprob { return engine.TokenLogprob{Text: text, Logprob: v} }
			return []engine.Event{
				{Tokens: []int32{1}, Text: "Hé", Logprobs: []engine.TokenLogprobs{{TokenLogprob: lp("Hé", -0.5), Top: []engine.TokenLogprob{lp("Hé", -0.5), lp("A", -1)}}}},
				{Tokens: []int32{2}, Text: "y", Logprobs: []engine.TokenLogprobs{{TokenLogprob: lp("y", -2), Top: []engine.TokenLogprob{lp("x", -0.1), lp("z", -1.5)}}},
					Finish: engine.FinishLength, Usage: engine.Usage{PromptTokens: 2, CompletionTokens: 2}},
			}
		}
	})
	resp, body := h.post("/v1/completions", `{"prompt":"x","logprobs":2}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if r := h.gen.last(); !r.Logprobs || r.TopLogprobs != 2 {
		t.Errorf("request logprobs %v top %d", r.Logprobs, r.TopLogprobs)
	}
	lp := decode[completionResponse](t, body).Choices[0].Logprobs
	if lp == nil || !slices.Equal(lp.Tokens, []string{"Hé", "y"}) || !slices.Equal(lp.TokenLogprobs, []float32{-0.5, -2}) ||
		!slices.Equal(lp.TextOffset, []int{0, 2}) || len(lp.TopLogprobs) != 2 || lp.TopLogprobs[1]["x"] != -0.1 ||
		lp.TopLogprobs[1]["y"] != -2 || len(lp.TopLogprobs[0]) != 2 {
		t.Errorf("completion logprobs = %+v", lp)
	}

	resp, body = h.post("/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":2}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	clp := decode[chatResponse](t, body).Choices[0].Logprobs
	if clp == nil || len(clp.Content) != 2 || clp.Content[0].Token != "Hé" || !slices.Equal(clp.Content[0].Bytes, []int{72, 0xc3, 0xa9}) ||
		len(clp.Content[1].TopLogprobs) != 2 || clp.Content[1].TopLogprobs[0].Token != "x" {
		t.Errorf("chat logprobs = %s", body)
	}
}
