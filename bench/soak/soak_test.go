package soak

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/model/load"
	"sieve/server"
)

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_alloc_bytes 1.5e+06
process_resident_memory_bytes 2.097152e+07
sieve_kv_blocks_used{model_name="m"} 3
sieve_kv_blocks_used_total_ignored 99
vllm:num_requests_running{model_name="m"} 2
vllm:num_requests_running{model_name="n"} 1
`
	s, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := Sample{Goroutines: 42, HeapBytes: 1.5e6, RSSBytes: 20 << 20, KVBlocksUsed: 3, Running: 3, Missing: []string{"vllm:num_requests_waiting"}}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", s, want)
	}
	if _, err := ParseMetrics(strings.NewReader("go_goroutines{x=\"1\" 5\n")); err == nil {
		t.Error("a broken label set was accepted")
	}
}

// TestLeakIsReported soaks a fake server whose /metrics shows a held
// block and extra goroutines after the traffic.
func TestLeakIsReported(t *testing.T) {
	scrapes := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			scrapes++
			g, blocks := 10, 0
			if scrapes > 1 {
				g, blocks = 30, 1
			}
			fmt.Fprintf(w, "go_goroutines %d\ngo_memstats_heap_alloc_bytes 1\nprocess_resident_memory_bytes 1\n"+
				"sieve_kv_blocks_used %d\nvllm:num_requests_running 0\nvllm:num_requests_waiting 0\n", g, blocks)
		default:
			if strings.Contains(r.URL.Path, "completions") {
				fmt.Fprint(w, `{"choices":[{"text":"x"}]}`)
				return
			}
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	cfg := DefaultConfig()
	cfg.URL, cfg.ContextLen, cfg.Duration, cfg.Concurrency, cfg.DrainTimeout = ts.URL, 64, 50*time.Millisecond, 1, 200*time.Millisecond
	cfg.DisconnectShare, cfg.MalformedShare, cfg.OverContextShare = 0, 0, 0
	cfg.Policies = nil
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rep.Problems, "; ")
	if rep.Passed() || !strings.Contains(got, "1 KV blocks still in use") || !strings.Contains(got, "30 goroutines after the drain, 10 before") {
		t.Errorf("problems %q", got)
	}
}

// TestSoakStories soaks stories260K served in-process for two seconds:
// every outcome of the mix occurs and the server drains clean.
func TestSoakStories(t *testing.T) {
	m, err := load.Open(testmodels.Path(t, "stories260K.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	eng, err := engine.New(m, m.Tokenizer, engine.Config{Threads: 2, MaxSeqs: 8, KVCacheMiB: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	srv := server.New(server.Config{ModelName: "stories260K"}, slog.New(slog.DiscardHandler))
	if err := srv.SetBackend(server.Backend{Generator: eng, Tokenizer: m.Tokenizer, ContextLen: m.Config.ContextLen, ChatTemplate: m.ChatTemplate}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cfg := DefaultConfig()
	cfg.URL, cfg.Duration, cfg.Concurrency, cfg.MaxTokens = ts.URL, 2*time.Second, 4, 24
	// More hostile traffic than the default, so that two seconds see all
	// of it; goroutines are the test process's, client included.
	cfg.MalformedShare, cfg.OverContextShare, cfg.DisconnectShare, cfg.GoroutineSlack = 0.1, 0.1, 0.4, 5
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests: %v; goroutines %g -> %g", rep.Requests, rep.Outcomes, rep.Before.Goroutines, rep.After.Goroutines)
	if !rep.Passed() {
		t.Fatalf("soak failed: %v; samples %q", rep.Problems, rep.FailureSamples)
	}
	for _, o := range []Outcome{OK, Disconnected, Refused} {
		if rep.Outcomes[o] == 0 {
			t.Errorf("no request ended %s: %v", o, rep.Outcomes)
		}
	}
}
