package server

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyIsCutOff is the slowloris recipe: headers, then a body that
// never completes. The server answers 408 once the read timeout passes and
// closes the connection, instead of holding it open.
func TestSlowBodyIsCutOff(t *testing.T) {
	h := newHarness(t, Config{ReadTimeout: 100 * time.Millisecond}, true)
	conn := dialServer(t, h)
	fmt.Fprintf(conn, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	// Trickle the body a byte at a time, as slowloris does, until the
	// server answers: it would take minutes to complete.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response to a stalled body: %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	if e := errorOf(t, readAll(t, resp)); deref(e.Code) != "request_timeout" {
		t.Errorf("code = %q", deref(e.Code))
	}
	if !resp.Close {
		t.Error("the response does not say the connection closes")
	}
	// The server hangs up at once rather than reading the rest of the
	// trickle (net/http drains a short unread body to reuse the
	// connection, which a slow client could stretch for days).
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the connection stays open after the 408: %v", err)
	}
	if resp, body := h.post("/v1/completions", `{"prompt":"x"}`); resp.StatusCode != http.StatusOK {
		t.Errorf("after the slow client: %d %s", resp.StatusCode, body)
	}
}

// TestStreamOutlivesTimeouts streams for longer than both the read and the
// write timeout: the body deadline is lifted once the body is in, and each
// event gets a fresh write deadline, so the stream runs to [DONE].
func TestStreamOutlivesTimeouts(t *testing.T) {
	h := newHarness(t, Config{ReadTimeout: 20 * time.Millisecond, WriteTimeout: 20 * time.Millisecond}, true)
	h.gen.set(func(g *fakeGen) { g.pace = 40 * time.Millisecond })
	for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
		resp, body := h.post(path, `{"prompt":"x","messages":[{"role":"user","content":"x"}],"stream":true}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		events := sseEvents(t, body)
		if events[len(events)-1] != "[DONE]" || !strings.Contains(string(body), " world") {
			t.Errorf("%s: stream cut short: %q", path, events)
		}
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}
