package server

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDisconnectMidStreamFreesBlocks streams from the real engine, hangs
// up after the first events, and checks through /metrics that the pool is
// whole again and nothing runs (the engine test bounds the delay to one
// step after the cancellation).
func TestDisconnectMidStreamFreesBlocks(t *testing.T) {
	h := newRealHarness(t)
	const m = `{model_name="stories260K"}`
	for path, input := range map[string]string{
		"/v1/completions":      `"prompt":"Once upon a time"`,
		"/v1/chat/completions": `"messages":[{"role":"user","content":"Once upon a time"}]`,
	} {
		ctx, cancel := context.WithCancel(context.Background())
		body := `{` + input + `,"max_tokens":400,"ignore_eos":true,"stream":true}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(resp.Body)
		for events := 0; events < 3; {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: stream ended early: %v", path, err)
			}
			if strings.HasPrefix(line, "data: ") {
				events++
			}
		}
		_, metrics := h.do(http.MethodGet, "/metrics", "")
		if used := metricValue(t, string(metrics), "sieve_kv_blocks_used"+m); used == 0 {
			t.Fatalf("%s: no KV blocks held mid-stream", path)
		}
		cancel()
		resp.Body.Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, metrics = h.do(http.MethodGet, "/metrics", "")
			text := string(metrics)
			used := metricValue(t, text, "sieve_kv_blocks_used"+m)
			running := metricValue(t, text, "vllm:num_requests_running"+m)
			if used == 0 && running == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: 10 s after the disconnect %g blocks are held and %g requests run", path, used, running)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestRuntimeCollectors checks that /metrics carries the Go runtime and
// process collectors the soak reads.
func TestRuntimeCollectors(t *testing.T) {
	h := newHarness(t, Config{ModelName: "stories260K"}, true)
	_, body := h.do(http.MethodGet, "/metrics", "")
	text := string(body)
	if g := metricValue(t, text, "go_goroutines"); g < 1 {
		t.Errorf("go_goroutines = %g", g)
	}
	if b := metricValue(t, text, "go_memstats_heap_alloc_bytes"); b <= 0 {
		t.Errorf("go_memstats_heap_alloc_bytes = %g", b)
	}
	if rss := metricValue(t, text, "process_resident_memory_bytes"); rss <= 0 {
		t.Errorf("process_resident_memory_bytes = %g", rss)
	}
}
