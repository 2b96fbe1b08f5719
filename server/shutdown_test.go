package server

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"sieve/engine"
)

// TestShutdownEndsStreamsWithAbort: a stream still running when the
// shutdown timeout passes is cancelled by the server, and ends as vLLM
// ends it: a final chunk with finish_reason "abort", its usage (asked for
// with include_usage) and [DONE]. It used to end mid-air (curl exit 18)
// and be logged as 499, the client's doing; the access log now records a
// 200 whose generation the server cancelled.
func TestShutdownEndsStreamsWithAbort(t *testing.T) {
	for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
		t.Run(path, func(t *testing.T) {
			h := newHarness(t, Config{}, true)
			h.gen.set(func(g *fakeGen) {
				g.hold = true
				g.script = func(r engine.Request) []engine.Event { return helloEvents(r)[:1] } // runs until cancelled
			})
			body := `{"prompt":"x","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`
			r := startStream(t, h.ts.URL+path, body)
			done := make(chan error, 1)
			go func() { done <- shutdown(h.srv, h.hs, h.gen, 20*time.Millisecond, slog.New(slog.DiscardHandler)) }()

			var events []string
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					break
				}
				if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
					events = append(events, data)
				}
			}
			if len(events) < 3 || events[len(events)-1] != "[DONE]" {
				t.Fatalf("the stream ended without [DONE]: %q", events)
			}
			var finish, usage response[json.RawMessage]
			json.Unmarshal([]byte(events[len(events)-3]), &finish)
			json.Unmarshal([]byte(events[len(events)-2]), &usage)
			if len(finish.Choices) != 1 || !strings.Contains(string(finish.Choices[0]), `"finish_reason":"abort"`) {
				t.Errorf("no final chunk with finish_reason abort: %q", events)
			}
			if usage.Usage == nil || usage.Usage.CompletionTokens != 1 || len(usage.Choices) != 0 {
				t.Errorf("no usage chunk with the 1 token generated: %q", events)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("shutdown: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("shutdown did not return")
			}
			logs := h.logs.String()
			if strings.Contains(logs, "status=499") || !strings.Contains(logs, "status=200") || !strings.Contains(logs, "finish=cancelled") {
				t.Errorf("the access log does not record the server's cancellation as a 200 with finish=cancelled:\n%s", logs)
			}
		})
	}
}

// startStream posts a streamed request to url and reads its first event;
// the rest of the stream is left to the caller, and closed at the end of
// the test.
func startStream(t *testing.T, url, body string) *bufio.Reader {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q, %v", line, err)
	}
	return r
}
