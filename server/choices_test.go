package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sieve/engine"
)

// promptEcho is a fake script whose text names the request: its prompt
// and seed, in two events, then a stop.
func promptEcho(r engine.Request) []engine.Event {
	n := len(r.Prompt)
	return []engine.Event{
		{Tokens: []int32{'a'}, Text: spell(r.Prompt), Usage: engine.Usage{PromptTokens: n, CompletionTokens: 1, CachedTokens: n / 2}},
		{Tokens: []int32{'b'}, Text: fmt.Sprintf("/%d", r.Params.Seed), Usage: engine.Usage{PromptTokens: n, CompletionTokens: 2, CachedTokens: n / 2}},
		{Tokens: []int32{byteEOS}, Finish: engine.FinishStop, Usage: engine.Usage{PromptTokens: n, CompletionTokens: 3, CachedTokens: n / 2}},
	}
}

func TestSeveralChoices(t *testing.T) {
	tests := []struct {
		name, path, body string
		want             []string // text per choice index
		usage            usage
	}{
		{"completion n=3", "/v1/completions", `{"prompt":"abcd","n":3,"seed":7}`,
			[]string{"<s>abcd/7", "<s>abcd/8", "<s>abcd/9"}, usage{PromptTokens: 5, CompletionTokens: 9, TotalTokens: 14}},
		{"two prompts n=2", "/v1/completions", `{"prompt":["ab","xyz"],"n":2,"seed":1}`,
			[]string{"<s>ab/1", "<s>ab/2", "<s>xyz/1", "<s>xyz/2"}, usage{PromptTokens: 7, CompletionTokens: 12, TotalTokens: 19}},
		{"token prompts", "/v1/completions", `{"prompt":[[97],[98,99]],"seed":3}`,
			[]string{"a/3", "bc/3"}, usage{PromptTokens: 3, CompletionTokens: 6, TotalTokens: 9}},
		{"chat n=2", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"n":2,"seed":5}`, nil,
			usage{CompletionTokens: 6}},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				h := newHarness(t, Config{}, true)
				h.gen.set(func(g *fakeGen) { g.script = promptEcho })
				body := tt.body
				if stream {
					body = strings.Replace(body, "{", `{"stream":true,"stream_options":{"include_usage":true},`, 1)
				}
				resp, raw := h.post(tt.path, body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, raw)
				}
				texts, finishes, u := choicesOf(t, raw, stream, strings.Contains(tt.path, "chat"))
				want := tt.want
				if want == nil { // chat: the rendered prompt, then the seed
					for i := range 2 {
						want = append(want, texts[0][:strings.LastIndex(texts[0], "/")]+fmt.Sprintf("/%d", 5+i))
					}
				}
				if len(texts) != len(want) {
					t.Fatalf("%d choices %q, want %d", len(texts), texts, len(want))
				}
				for i := range want {
					if texts[i] != want[i] || finishes[i] != "stop" {
						t.Errorf("choice %d: %q finish %q, want %q", i, texts[i], finishes[i], want[i])
					}
				}
				if u == nil {
					t.Fatal("no usage")
				}
				if tt.usage.PromptTokens == 0 { // chat: the rendered prompt's length, once
					tt.usage.PromptTokens = u.PromptTokens
					tt.usage.TotalTokens = u.PromptTokens + tt.usage.CompletionTokens
				}
				tt.usage.PromptTokensDetails.CachedTokens = u.PromptTokens / 2
				if strings.Contains(tt.name, "two prompts") || strings.Contains(tt.name, "token prompts") {
					tt.usage.PromptTokensDetails.CachedTokens = u.PromptTokensDetails.CachedTokens // each prompt's n/2, summed
				}
				if *u != tt.usage {
					t.Errorf("usage %+v, want %+v", *u, tt.usage)
				}
			})
		}
	}
}

// choicesOf reads the choices' texts and finish reasons, by index, and the
// usage from a response or a stream.
func choicesOf(t *testing.T, raw []byte, stream, chat bool) (texts, finishes []string, u *usage) {
	t.Helper()
	add := func(i int, text string, finish *string) {
		for len(texts) <= i {
			texts, finishes = append(texts, ""), append(finishes, "")
		}
		texts[i] += text
		if finish != nil {
			if finishes[i] != "" {
				t.Errorf("choice %d finished twice", i)
			}
			finishes[i] = *finish
		}
	}
	bodies := [][]byte{raw}
	if stream {
		bodies = nil
		events := sseEvents(t, raw)
		if events[len(events)-1] != "[DONE]" {
			t.Fatalf("stream ends with %q", events[len(events)-1])
		}
		for _, e := range events[:len(events)-1] {
			bodies = append(bodies, []byte(e))
		}
	}
	for _, b := range bodies {
		if chat {
			r := decode[chatResponse](t, b)
			for _, c := range r.Choices {
				out := c.Message
				if stream {
					out = c.Delta
				}
				text := ""
				if out.Content != nil {
					text = *out.Content
				}
				add(c.Index, text, c.FinishReason)
			}
			u = cmpUsage(u, r.Usage)
			continue
		}
		r := decode[completionResponse](t, b)
		for _, c := range r.Choices {
			add(c.Index, c.Text, c.FinishReason)
		}
		u = cmpUsage(u, r.Usage)
	}
	return texts, finishes, u
}

// cmpUsage returns the usage seen so far: got unless next is set.
func cmpUsage(got, next *usage) *usage {
	if next != nil {
		return next
	}
	return got
}

func TestSiblingsFollowTheirLeader(t *testing.T) {
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) { g.script = promptEcho })
	if resp, raw := h.post("/v1/completions", `{"prompt":["ab","cd"],"n":3}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	h.gen.mu.Lock()
	defer h.gen.mu.Unlock()
	var order []string
	for _, r := range h.gen.reqs {
		order = append(order, spell(r.Prompt))
	}
	// Both leaders first; each prompt's siblings after its leader.
	if len(order) != 6 || order[0] != "<s>ab" || order[1] != "<s>cd" {
		t.Fatalf("submission order %q, want the two leaders first", order)
	}
}

func TestSeveralChoicesFromTheEngine(t *testing.T) {
	h := newRealHarness(t)
	resp, raw := h.post("/v1/completions", `{"prompt":"`+longStory+`","n":4,"max_tokens":12,"temperature":0}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	r := decode[completionResponse](t, raw)
	if len(r.Choices) != 4 {
		t.Fatalf("%d choices", len(r.Choices))
	}
	for i, c := range r.Choices {
		if c.Index != i || c.Text != r.Choices[0].Text || c.Text == "" {
			t.Errorf("choice %d (index %d): %q, want the greedy %q", i, c.Index, c.Text, r.Choices[0].Text)
		}
	}
	if r.Usage.CompletionTokens != 48 || r.Usage.PromptTokens < 40 || r.Usage.PromptTokensDetails.CachedTokens != 0 {
		t.Errorf("usage %+v", r.Usage)
	}
	// The prompt was prefilled once: the three siblings found its full
	// blocks in the cache.
	_, body := h.do(http.MethodGet, "/metrics", "")
	hits := metricValue(t, string(body), `vllm:prefix_cache_hits_total{model_name="stories260K"}`)
	if want := 3 * float64((r.Usage.PromptTokens-1)/16*16); hits != want {
		t.Errorf("prefix cache hits %g, want %g", hits, want)
	}
}

func TestClientLeavingCancelsEveryChoice(t *testing.T) {
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) {
		g.hold = true
		g.script = func(r engine.Request) []engine.Event { return helloEvents(r)[:1] } // runs until cancelled
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.ts.URL+"/v1/completions",
		strings.NewReader(`{"prompt":["x","y"],"n":2,"stream":true}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// Every choice has produced its first event once four chunks came.
	rd := bufio.NewReader(resp.Body)
	for seen := 0; seen < 4; {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			seen++
		}
	}
	cancel()
	resp.Body.Close()
	for i := range 4 {
		select {
		case err := <-h.gen.ended:
			if err == nil {
				t.Errorf("choice ended without cancellation")
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 4 engine requests cancelled after the client left", i)
		}
	}
}
