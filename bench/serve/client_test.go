package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is an OpenAI-style server with planted delays: the first
// token after first, each later one gap after the previous, max_tokens
// tokens in all.
type fakeServer struct {
	first, gap time.Duration
	noUsage    bool // leave the usage out of streams
	status     int  // answer this status instead, when set
	cut        bool // end streams after the first token, without [DONE]
	errChunk   bool // send an error chunk after the first token
	// prefixCache counts prompt tokens as words and plays a prefix cache:
	// a prompt's cached tokens are the words of the longest earlier
	// prompt-and-answer it starts with, reported in the usage, or with
	// cacheInMetrics only on /metrics as vLLM's counters.
	prefixCache, cacheInMetrics bool
	mu                          sync.Mutex
	bodies                      []map[string]any
	inFlight                    int
	maxFlight                   int
	seen                        []string // prompts and their answers, for prefixCache
	queries, hits               int      // prompt tokens and cached ones, for /metrics
}

// promptText is a request's prompt as text: the prompt string, or the
// chat messages' contents joined by spaces.
func promptText(body map[string]any) string {
	if p, ok := body["prompt"].(string); ok {
		return p
	}
	var parts []string
	msgs, _ := body["messages"].([]any)
	for _, m := range msgs {
		parts = append(parts, m.(map[string]any)["content"].(string))
	}
	return strings.Join(parts, " ")
}

// usage is the usage object of a request that answers answer.
func (f *fakeServer) usage(body map[string]any, chat bool, answer string, n int) string {
	if !f.prefixCache {
		return fmt.Sprintf(`{"prompt_tokens":7,"completion_tokens":%d,"total_tokens":%d}`, n, n+7)
	}
	text := promptText(body)
	prompt, cached := len(strings.Fields(text)), 0
	f.mu.Lock()
	for _, s := range f.seen {
		if strings.HasPrefix(text, s) {
			cached = max(cached, len(strings.Fields(s)))
		}
	}
	f.queries += prompt
	f.hits += cached
	if chat {
		f.seen = append(f.seen, text+" "+answer)
	} else {
		f.seen = append(f.seen, text+answer)
	}
	f.mu.Unlock()
	details := fmt.Sprintf(`,"prompt_tokens_details":{"cached_tokens":%d}`, cached)
	if f.cacheInMetrics {
		details = ""
	}
	return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d%s}`, prompt, n, n+prompt, details)
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/models" {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"fake-model"}]}`)
		return
	}
	if r.URL.Path == "/metrics" {
		if !f.cacheInMetrics {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		fmt.Fprintf(w, "# TYPE vllm:prefix_cache_queries counter\nvllm:prefix_cache_queries_total{model_name=\"m\"} %d\n", f.queries)
		fmt.Fprintf(w, "# TYPE vllm:prefix_cache_hits counter\nvllm:prefix_cache_hits_total{model_name=\"m\"} %d\n", f.hits)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.inFlight++
	f.maxFlight = max(f.maxFlight, f.inFlight)
	f.mu.Unlock()
	// The request leaves before its last write, which is what lets the
	// client send its next one.
	leave := sync.OnceFunc(func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	})
	defer leave()
	if f.status != 0 {
		leave()
		w.WriteHeader(f.status)
		fmt.Fprint(w, `{"error":{"message":"try later","type":"rate_limit"}}`)
		return
	}
	n := int(body["max_tokens"].(float64))
	chat := r.URL.Path == "/v1/chat/completions"
	piece := func() string {
		if chat {
			return `{"choices":[{"index":0,"delta":{"content":"ab"}}]}`
		}
		return `{"choices":[{"index":0,"text":"ab"}]}`
	}
	usage := f.usage(body, chat, strings.Repeat("ab", n), n)
	if stream, _ := body["stream"].(bool); !stream {
		time.Sleep(f.first + time.Duration(n-1)*f.gap)
		leave()
		fmt.Fprintf(w, `{"choices":[{"index":0,"text":"%s"}],"usage":%s}`, strings.Repeat("ab", n), usage)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flush := w.(http.Flusher).Flush
	send := func(data string) {
		if data == "[DONE]" {
			leave()
		}
		fmt.Fprintf(w, "data: %s\n\n", data)
		flush()
	}
	time.Sleep(f.first)
	for i := range n {
		if i > 0 {
			time.Sleep(f.gap)
		}
		send(piece())
		if f.cut {
			return
		}
		if f.errChunk {
			send(`{"error":{"message":"engine failed","type":"server_error"}}`)
			send("[DONE]")
			return
		}
	}
	send(`{"choices":[{"index":0,"text":"","finish_reason":"length"}]}`)
	if !f.noUsage {
		send(`{"choices":[],"usage":` + usage + `}`)
	}
	send("[DONE]")
}

func TestSendAccountsStreamTiming(t *testing.T) {
	const first, gap, tokens = 30 * time.Millisecond, 5 * time.Millisecond, 6
	for _, tc := range []struct {
		name    string
		chat    bool
		noUsage bool
	}{{"completions", false, false}, {"chat", true, false}, {"no usage", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{first: first, gap: gap, noUsage: tc.noUsage}
			ts := httptest.NewServer(f)
			defer ts.Close()
			c := NewClient(Target{URL: ts.URL, Chat: tc.chat, Model: "m", Stream: true}, nil)
			m := c.Send(context.Background(), Prompt{Text: "hi", Tokens: []int32{5, 6}, OutputLen: tokens})
			if !m.OK() {
				t.Fatal(m.Err)
			}
			if m.OutputTokens != tokens || len(m.ITL) != tokens-1 {
				t.Fatalf("%d output tokens, %d gaps; want %d and %d", m.OutputTokens, len(m.ITL), tokens, tokens-1)
			}
			wantPrompt := 7
			if tc.noUsage {
				wantPrompt = 0
			}
			if m.PromptTokens != wantPrompt {
				t.Errorf("prompt tokens %d, want %d", m.PromptTokens, wantPrompt)
			}
			if m.TTFT < first {
				t.Errorf("TTFT %v below the planted %v", m.TTFT, first)
			}
			if min := first + (tokens-1)*gap; m.Latency < min {
				t.Errorf("latency %v below the planted %v", m.Latency, min)
			}
			var sum time.Duration
			for _, d := range m.ITL {
				sum += d
			}
			if m.TTFT+sum > m.Latency {
				t.Errorf("TTFT %v + gaps %v exceed the latency %v", m.TTFT, sum, m.Latency)
			}
			if got, want := m.TPOT(), (m.Latency-m.TTFT)/(tokens-1); got != want {
				t.Errorf("TPOT %v, want %v", got, want)
			}
		})
	}
}

func TestSendWholeResponse(t *testing.T) {
	const first, gap, tokens = 20 * time.Millisecond, 2 * time.Millisecond, 4
	ts := httptest.NewServer(&fakeServer{first: first, gap: gap})
	defer ts.Close()
	m := NewClient(Target{URL: ts.URL, Model: "m"}, nil).Send(context.Background(), Prompt{Tokens: []int32{5}, OutputLen: tokens})
	if !m.OK() || m.OutputTokens != tokens || m.PromptTokens != 7 || len(m.ITL) != 0 {
		t.Fatalf("%+v", m)
	}
	if min := first + (tokens-1)*gap; m.TTFT < min || m.Latency < m.TTFT {
		t.Errorf("TTFT %v, latency %v; want both at least %v", m.TTFT, m.Latency, min)
	}
}

func TestSendReportsFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *fakeServer
		want string
	}{
		{"status", &fakeServer{status: http.StatusTooManyRequests}, "HTTP 429: try later"},
		{"cut stream", &fakeServer{cut: true}, "stream ended before [DONE]"},
		{"error chunk", &fakeServer{errChunk: true}, "stream error: engine failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.f)
			defer ts.Close()
			m := NewClient(Target{URL: ts.URL, Model: "m", Stream: true}, nil).Send(context.Background(), Prompt{Tokens: []int32{5}, OutputLen: 3})
			if m.Err != tc.want {
				t.Errorf("error %q, want %q", m.Err, tc.want)
			}
		})
	}
}

func TestRunBoundsConcurrencyAndPassesFields(t *testing.T) {
	f := &fakeServer{first: 2 * time.Millisecond, gap: time.Millisecond}
	ts := httptest.NewServer(f)
	defer ts.Close()
	prompts, err := Workload(WorkloadConfig{NumPrompts: 12, InputLen: Range{4, 9}, OutputLen: Range{3, 3}, Vocab: 50, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(Target{URL: ts.URL, Stream: true, KVPolicy: "h2o", KVBudget: 0.25, Label: "fake"}, nil)
	res, err := Run(context.Background(), c, prompts, Load{MaxConcurrency: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 12 || res.Failed != 0 || res.OutputTokens != 36 || res.Model != "fake-model" {
		t.Fatalf("%+v", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxFlight > 2 {
		t.Errorf("%d requests in flight at once with --max-concurrency 2", f.maxFlight)
	}
	for _, b := range f.bodies {
		if b["kv_policy"] != "h2o" || b["kv_budget"] != 0.25 || b["ignore_eos"] != true || b["model"] != "fake-model" || b["max_tokens"] != 3.0 {
			t.Fatalf("request body %v", b)
		}
		p, _ := b["prompt"].([]any)
		if len(p) < 4 || len(p) > 9 {
			t.Fatalf("prompt of %d tokens, want 4 to 9", len(p))
		}
		for _, id := range p {
			if v := id.(float64); v < 3 || v >= 50 {
				t.Fatalf("token id %g outside [3, 50)", v)
			}
		}
	}
}
