package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHalfClosedClientIsServed: a client that sends a complete request and
// then shuts down its write side (nc -N and some proxies do) waits for its
// answer. net/http's background read sees the EOF and cancelled the
// request, so such a client got 200 with an empty body (Content-Length:
// 0) or a stream of no tokens, whatever the HTTP version or body framing.
// It is now served in full.
func TestHalfClosedClientIsServed(t *testing.T) {
	const completion, chat = `{"prompt":"x"%s}`, `{"messages":[{"role":"user","content":"x"}]%s}`
	tests := []struct {
		name    string
		path    string
		body    string
		stream  bool
		proto   string
		chunked bool
	}{
		{"completion", "/v1/completions", completion, false, "HTTP/1.1", false},
		{"chat", "/v1/chat/completions", chat, false, "HTTP/1.1", false},
		{"streamed completion", "/v1/completions", completion, true, "HTTP/1.1", false},
		{"streamed chat", "/v1/chat/completions", chat, true, "HTTP/1.1", false},
		{"HTTP/1.0 completion", "/v1/completions", completion, false, "HTTP/1.0", false},
		{"HTTP/1.0 streamed chat", "/v1/chat/completions", chat, true, "HTTP/1.0", false},
		{"chunked completion", "/v1/completions", completion, false, "HTTP/1.1", true},
		{"chunked streamed completion", "/v1/completions", completion, true, "HTTP/1.1", true},
	}
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) { g.pace = 30 * time.Millisecond }) // the EOF arrives while it generates
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(tt.body, "")
			if tt.stream {
				body = fmt.Sprintf(tt.body, `,"stream":true`)
			}
			framing := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
			if tt.chunked {
				framing = fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
			}
			resp := postHalfClosed(t, h, tt.path, tt.proto, framing)
			out := readAll(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			if tt.stream {
				events := sseEvents(t, withoutPings(out))
				if events[len(events)-1] != "[DONE]" || !strings.Contains(string(out), " world") {
					t.Errorf("stream cut short: %q", events)
				}
				return
			}
			if len(out) == 0 || !strings.Contains(string(out), "Hello world") {
				t.Errorf("body %q, want the whole completion", out)
			}
		})
	}
	if logs := h.logs.String(); strings.Contains(logs, "status=499") {
		t.Errorf("a half-closed client was logged as gone:\n%s", logs)
	}
}

// withoutPings drops the empty comments a stream to a half-closed client
// carries when no event came for a while (see generation.next).
func withoutPings(body []byte) []byte {
	var kept []string
	for _, ev := range strings.SplitAfter(string(body), "\n\n") {
		if ev != ":\n\n" {
			kept = append(kept, ev)
		}
	}
	return []byte(strings.Join(kept, ""))
}

// postHalfClosed sends a POST of path with the given framing (the headers
// that follow Content-Type, then the body) on a new connection, shuts
// down the connection's write side, and reads the response head.
func postHalfClosed(t *testing.T, h *harness, path, proto, framing string) *http.Response {
	t.Helper()
	c := dialServer(t, h)
	fmt.Fprintf(c, "POST %s %s\r\nHost: x\r\nContent-Type: application/json\r\n%s", path, proto, framing)
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	return resp
}

// TestHalfClosedSlowStreamIsProbed: a stream to a half-closed client whose
// events are slower than the probe interval carries empty comments (the
// probes that would find a client that left) and still runs to [DONE]:
// the probes' writes succeed, so the client is served, not cancelled.
func TestHalfClosedSlowStreamIsProbed(t *testing.T) {
	h := newHarness(t, Config{}, true)
	h.gen.set(func(g *fakeGen) { g.pace = probeInterval + 200*time.Millisecond })
	body := `{"prompt":"x","stream":true}`
	resp := postHalfClosed(t, h, "/v1/completions", "HTTP/1.1", fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
	out := readAll(t, resp)
	if !strings.Contains(string(out), "\n\n:\n\n") {
		t.Errorf("no probe in a stream with gaps longer than the probe interval: %q", out)
	}
	if events := sseEvents(t, withoutPings(out)); events[len(events)-1] != "[DONE]" || !strings.Contains(string(out), " world") {
		t.Errorf("stream cut short: %q", events)
	}
	if err := <-h.gen.ended; err != nil {
		t.Errorf("the probed stream was cancelled: %v", err)
	}
}
