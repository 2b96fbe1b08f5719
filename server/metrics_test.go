package server

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sieve/engine"
)

// metricValue returns the value of the sample line that starts with series
// (name and labels exactly as exposed).
func metricValue(t *testing.T, exposition, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(exposition)
	if m == nil {
		t.Fatalf("no sample %s in\n%s", series, exposition)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, Config{ModelName: "stories260K"}, true)
	h.gen.set(func(g *fakeGen) {
		g.stats = engine.Stats{Running: 3, Waiting: 2, KVUsage: 0.25, KVBlocksUsed: 8, KVBlocksTotal: 32, KVCapacityTokens: 256,
			KVLayerBlocks: []int{5, 3}, Preemptions: 4, Steps: 99,
			PrefixCacheQueries: 700, PrefixCacheHits: 512, PrefillTokens: 190, KVBlocksCached: 12}
	})
	for range 2 {
		if resp, body := h.post("/v1/completions", `{"prompt":"abc"}`); resp.StatusCode != 200 {
			t.Fatalf("completion: %d %s", resp.StatusCode, body)
		}
	}
	h.gen.set(func(g *fakeGen) { g.err = engine.ErrQueueFull })
	h.post("/v1/completions", `{"prompt":"abc"}`)

	resp, body := h.do(http.MethodGet, "/metrics", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	text := string(body)
	const m = `{model_name="stories260K"}`
	tests := []struct {
		series string
		want   float64
	}{
		{"vllm:num_requests_running" + m, 3},
		{"vllm:num_requests_waiting" + m, 2},
		{"vllm:kv_cache_usage_perc" + m, 0.25},
		{"vllm:gpu_cache_usage_perc" + m, 0.25},
		{"vllm:prompt_tokens_total" + m, 8},     // 2 requests × (BOS + "abc")
		{"vllm:generation_tokens_total" + m, 6}, // 2 × 3
		{"vllm:time_to_first_token_seconds_count" + m, 2},
		{"vllm:time_per_output_token_seconds_count" + m, 2 * 2},
		{"vllm:e2e_request_latency_seconds_count" + m, 2},
		{`vllm:request_success_total{finished_reason="stop",model_name="stories260K"}`, 2},
		{`sieve_requests_rejected_total{model_name="stories260K",reason="queue_full"}`, 1},
		{`sieve_http_requests_total{code="200",route="/v1/completions"}`, 2},
		{`sieve_http_requests_total{code="429",route="/v1/completions"}`, 1},
		{"sieve_kv_blocks_used" + m, 8},
		{"sieve_kv_blocks_total" + m, 32},
		{"sieve_kv_cache_capacity_tokens" + m, 256},
		{`sieve_kv_layer_blocks{layer="1",model_name="stories260K"}`, 3},
		{"sieve_engine_preemptions_total" + m, 4},
		{"sieve_engine_steps_total" + m, 99},
		{"vllm:prefix_cache_queries_total" + m, 700},
		{"vllm:prefix_cache_hits_total" + m, 512},
		{"sieve_prefix_cache_resumed_tokens_total" + m, 0},
		{"sieve_engine_prefill_tokens_total" + m, 190},
		{"sieve_kv_blocks_cached" + m, 12},
		{"sieve_model_loaded" + m, 1},
	}
	for _, tt := range tests {
		if got := metricValue(t, text, tt.series); got != tt.want {
			t.Errorf("%s = %g, want %g", tt.series, got, tt.want)
		}
	}
	for _, typ := range []string{"# TYPE vllm:time_to_first_token_seconds histogram", "# TYPE vllm:prompt_tokens_total counter",
		"# TYPE vllm:num_requests_running gauge"} {
		if !strings.Contains(text, typ) {
			t.Errorf("exposition lacks %q", typ)
		}
	}
}

func TestMetricsBeforeLoad(t *testing.T) {
	h := newHarness(t, Config{ModelName: "m"}, false)
	_, body := h.do(http.MethodGet, "/metrics", "")
	if got := metricValue(t, string(body), `vllm:num_requests_running{model_name="m"}`); got != 0 {
		t.Errorf("running before load = %g", got)
	}
	if got := metricValue(t, string(body), `sieve_model_loaded{model_name="m"}`); got != 0 {
		t.Errorf("loaded before load = %g", got)
	}
}

// TestClientDisconnectCancels checks that a client going away mid-stream
// cancels the engine request's context: it hangs up after the first
// bytes, and the server's next writes (its probes of a client that closed
// its side) fail.
func TestClientDisconnectCancels(t *testing.T) {
	for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
		t.Run(path, func(t *testing.T) {
			h := newHarness(t, Config{}, true)
			h.gen.set(func(g *fakeGen) {
				g.hold = true
				g.script = func(r engine.Request) []engine.Event { return helloEvents(r)[:1] } // no finish: it runs until cancelled
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			body := `{"prompt":"x","messages":[{"role":"user","content":"x"}],"stream":true}`
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.ts.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := h.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1)
			resp.Body.Read(buf) // the first bytes of the stream
			cancel()
			resp.Body.Close()
			select {
			case err := <-h.gen.ended:
				if err == nil {
					t.Errorf("the request ended without cancellation")
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("the engine request was not cancelled after the client left")
			}
			// It is counted and logged as 499 (nginx's "client closed
			// request"), not as 200 or 0; the access log is written when
			// the handler returns, a moment after the cancellation.
			series := `sieve_http_requests_total{code="499",route="` + path + `"}`
			for deadline := time.Now().Add(10 * time.Second); ; {
				_, body := h.do(http.MethodGet, "/metrics", "")
				if strings.Contains(string(body), series+" 1") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s 1 in\n%s", series, body)
				}
				time.Sleep(10 * time.Millisecond)
			}
			logs := h.logs.String()
			if strings.Contains(logs, "status=0 ") || !strings.Contains(logs, "status=499 bytes=") || !strings.Contains(logs, "completion_tokens=1") {
				t.Errorf("access log does not say 499 with the tokens of the cancelled request:\n%s", logs)
			}
		})
	}
}

// TestHungUpRequestRunsToItsEnd: a client that hangs up on a request that
// is not streamed cannot be told from one that half-closes to wait for
// its answer (both end their side with a clean EOF, and nothing is written
// to it before the answer), so the request runs to its end, as one for a
// half-closed client must (TestHalfClosedClientIsServed).
func TestHungUpRequestRunsToItsEnd(t *testing.T) {
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) { g.pace = 50 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.ts.URL+"/v1/completions", strings.NewReader(`{"prompt":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	go func() {
		time.Sleep(20 * time.Millisecond) // let the request reach the generator
		cancel()
	}()
	if _, err := h.ts.Client().Do(req); err == nil {
		t.Fatal("the request was not cancelled on the client's side")
	}
	select {
	case err := <-h.gen.ended:
		if err != nil {
			t.Errorf("the request was cancelled (%v); a hang-up looks like a half-close, which is served", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not end")
	}
}
