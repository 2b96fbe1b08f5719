package server

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/kvcache"
	"sieve/model/load"
)

// holdStream starts a stream that the fake generator holds open after one
// event, and returns once the handler is sending it; cancel ends it.
func holdStream(t *testing.T, h *harness) (cancel func()) {
	t.Helper()
	h.gen.set(func(g *fakeGen) {
		g.hold = true
		g.script = func(r engine.Request) []engine.Event {
			return []engine.Event{{Tokens: []int32{'H'}, Text: "H", Usage: engine.Usage{PromptTokens: len(r.Prompt), CompletionTokens: 1}}}
		}
	})
	ctx, cancelReq := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.ts.URL+"/v1/completions", strings.NewReader(`{"prompt":"x","stream":true}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q, %v", line, err)
	}
	return func() { cancelReq(); resp.Body.Close() }
}

func TestDrainRefusesNewRequestsAndWaitsForRunning(t *testing.T) {
	h := newHarness(t, Config{}, true)
	cancel := holdStream(t, h)
	defer cancel()
	drained := make(chan error, 1)
	go func() {
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		drained <- h.srv.Drain(ctx)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, _ := h.do(http.MethodGet, "/health", "")
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health still %d after Drain began", resp.StatusCode)
		}
		time.Sleep(time.Millisecond)
	}
	resp, body := h.post("/v1/completions", `{"prompt":"x"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || errorOf(t, body).Code == nil || *errorOf(t, body).Code != "shutting_down" {
		t.Errorf("new request while draining: %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.do(http.MethodGet, "/metrics", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics while draining: %d", resp.StatusCode)
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while a stream was running", err)
	default:
	}
	cancel()
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("Drain after the stream ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Drain did not return after the running stream ended")
	}
}

func TestDrainGivesUpAtItsDeadline(t *testing.T) {
	h := newHarness(t, Config{}, true)
	cancel := holdStream(t, h)
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if err := h.srv.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with a held stream: %v, want the deadline", err)
	}
}

func TestKVPoolLargerThanMemoryNamesTheFlag(t *testing.T) {
	if _, err := kvcache.MemAvailable(); err != nil {
		t.Skipf("available memory unknown here: %v", err)
	}
	path := testmodels.Path(t, "stories260K.gguf")
	opts, err := ParseArgs([]string{"-m", path, "--port", "0", "--kv-cache-size", "64TiB"}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Serve(context.Background(), ln, opts, load.Open, slog.New(slog.DiscardHandler))
	if !errors.Is(err, engine.ErrKVTooLarge) || !strings.Contains(err.Error(), "lower --kv-cache-size") {
		t.Fatalf("Serve with a 64 TiB pool: %v", err)
	}
}
