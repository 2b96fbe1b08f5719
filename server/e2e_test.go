package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/model"
	"sieve/model/load"
)

const storyPrompt = "Once upon a time"

// storyContinuation returns llama2.c's greedy continuation of storyPrompt
// with stories260K.
func storyContinuation(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(testmodels.ReferencePath(t, "stories260K-greedy-once-upon-a-time.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ref, ok := strings.CutPrefix(string(b), storyPrompt)
	if !ok {
		t.Fatalf("reference does not start with %q", storyPrompt)
	}
	return ref
}

// newRealHarness serves stories260K.gguf with the real engine.
func newRealHarness(t *testing.T) *harness {
	t.Helper()
	m, err := load.Open(testmodels.Path(t, "stories260K.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	eng, err := engine.New(m, m.Tokenizer, engine.Config{Threads: 2, MaxSeqs: 4, KVCacheMiB: 16}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	h := &harness{t: t, logs: logs, srv: New(Config{ModelName: "stories260K"}, log)}
	if err := h.srv.SetBackend(Backend{Generator: eng, Tokenizer: m.Tokenizer, ContextLen: m.Config.ContextLen, ChatTemplate: m.ChatTemplate}); err != nil {
		t.Fatal(err)
	}
	h.ts = httptest.NewServer(h.srv)
	t.Cleanup(h.ts.Close)
	return h
}

func TestEndToEndStories(t *testing.T) {
	ref := storyContinuation(t)
	h := newRealHarness(t)
	firstLily := strings.Index(ref, "Lily")
	tests := []struct {
		name   string
		body   string
		want   string // the exact text; "" means a prefix of ref of at least 100 bytes
		finish string
	}{
		{"greedy completion", `{"model":"stories260K","prompt":"Once upon a time","max_tokens":60,"temperature":0}`, "", "length"},
		{"greedy completion with a stop string", `{"prompt":"Once upon a time","max_tokens":60,"temperature":0,"stop":["Lily","zzz"]}`, ref[:firstLily], "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.post("/v1/completions", tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := decode[completionResponse](t, body)
			text := got.Choices[0].Text
			if tt.want != "" && text != tt.want {
				t.Errorf("text %q, want %q", text, tt.want)
			}
			if tt.want == "" && (len(text) < 100 || !strings.HasPrefix(ref, text)) {
				t.Errorf("text %q is not a long prefix of the reference %q", text, ref[:min(len(ref), 300)])
			}
			if deref(got.Choices[0].FinishReason) != tt.finish {
				t.Errorf("finish %q, want %q", deref(got.Choices[0].FinishReason), tt.finish)
			}
			if got.Usage == nil || got.Usage.PromptTokens != 5 || got.Usage.CompletionTokens < 1 || got.Usage.CompletionTokens > 60 {
				t.Errorf("usage %+v (want 5 prompt tokens: BOS + 4)", got.Usage)
			}
		})
	}

	// The same greedy completion streamed gives the same text.
	resp, body := h.post("/v1/completions", `{"prompt":"Once upon a time","max_tokens":60,"temperature":0,"stream":true}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: status %d: %s", resp.StatusCode, body)
	}
	var streamed strings.Builder
	for _, data := range sseEvents(t, body) {
		if data != "[DONE]" {
			for _, c := range decode[completionResponse](t, []byte(data)).Choices {
				streamed.WriteString(c.Text)
			}
		}
	}
	_, body = h.post("/v1/completions", `{"prompt":"Once upon a time","max_tokens":60,"temperature":0}`)
	if whole := decode[completionResponse](t, body).Choices[0].Text; streamed.String() != whole {
		t.Errorf("streamed %q, whole %q", streamed.String(), whole)
	}

	// Chat uses the plain fallback template (the model has none).
	resp, body = h.post("/v1/chat/completions", `{"messages":[{"role":"user","content":"Tell me a story."}],"max_tokens":20,"seed":7}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: status %d: %s", resp.StatusCode, body)
	}
	chat := decode[chatResponse](t, body)
	if chat.Choices[0].Message.Role != "assistant" || deref(chat.Choices[0].Message.Content) == "" || chat.Usage.CompletionTokens == 0 {
		t.Errorf("chat response %s", body)
	}
	if !strings.Contains(h.logs.String(), "no chat template") {
		t.Error("no warning about the missing chat template")
	}

	// Over the context: 2048 for this file.
	resp, body = h.post("/v1/completions", `{"prompt":"Once upon a time","max_tokens":2045}`)
	if e := errorOf(t, body); resp.StatusCode != 400 || !strings.Contains(e.Message, "2048") || !strings.Contains(e.Message, "at most 2043") {
		t.Errorf("over the context: %d %s", resp.StatusCode, body)
	}
}

// TestServeLifecycle runs Serve as the CLI does: /health is 503 while the
// model loads and 200 after; on shutdown a running stream is drained to its
// end, and Serve returns.
func TestServeLifecycle(t *testing.T) {
	path := testmodels.Path(t, "stories260K.gguf")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	release := make(chan struct{})
	slowLoad := func(p, tok string) (*model.Model, error) {
		<-release
		return load.Open(p, tok)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	opts, err := ParseArgs([]string{"-m", path, "--threads", "2", "--kv-cache-size", "16", "--shutdown-timeout", "20s"}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, opts, slowLoad, slog.New(slog.NewTextHandler(logs, nil))) }()

	health := func() int {
		resp, err := http.Get(base + "/health")
		if err != nil {
			t.Fatalf("GET /health: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := health(); code != http.StatusServiceUnavailable {
		t.Errorf("health while loading = %d, want 503", code)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for health() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 10s; logs:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Start a long stream (a few hundred milliseconds), read its first
	// event, then shut down: the stream must still run to its end.
	tokens := 200
	if raceEnabled {
		tokens = 40
	}
	body := fmt.Sprintf(`{"model":"stories260K","prompt":"Once upon a time","max_tokens":%d,"temperature":0,"stream":true,"ignore_eos":true}`, tokens)
	r := startStream(t, base+"/v1/completions", body)
	stop()
	var last, finish string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			last = data
			var c completionResponse
			if json.Unmarshal([]byte(data), &c) == nil && len(c.Choices) > 0 && c.Choices[0].FinishReason != nil {
				finish = *c.Choices[0].FinishReason
			}
		}
	}
	if last != "[DONE]" || finish != "length" {
		t.Errorf("drained stream ended with %q, finish %q; want [DONE] after finish length", last, finish)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if resp, err := http.Get(base + "/health"); err == nil {
		resp.Body.Close()
		t.Error("server still answering after shutdown")
	}
	text := logs.String()
	draining, finished := strings.Index(text, "shutting down"), strings.Index(text, "generation finished")
	if draining < 0 || finished < draining || !strings.Contains(text, "shut down cleanly") {
		t.Errorf("want shutdown to start while the stream ran, then a clean exit; logs:\n%s", text)
	}
}
