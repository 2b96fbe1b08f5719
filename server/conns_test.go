package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// dialServer opens a raw connection to h, with a deadline of 10 s so that
// a hang fails the test instead of blocking it.
func dialServer(t *testing.T, h *harness) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// idleConn opens a connection to h, sends one GET /health on it and reads
// the answer, leaving the connection idle between keep-alive requests.
func idleConn(h *harness) (net.Conn, error) {
	c, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second)) // a hang fails the test instead of blocking it
	fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c, nil
}

// TestIdleConnectionsDoNotLockOut is the recipe: 600 keep-alive
// connections that each sent one GET /health and then stay idle, past
// --max-connections 512. They used to fill the limit, and a new request
// waited in the listen backlog until an idle connection timed out (79 s
// with the old 2-minute idle timeout). Now each newcomer takes the place
// of the connection idle the longest, so every connection and the 20
// normal requests after them are answered, and the server holds at most
// 512 connections.
func TestIdleConnectionsDoNotLockOut(t *testing.T) {
	limits := DefaultHTTPLimits()
	if limits.MaxConnections != 512 || limits.IdleTimeout > 5*time.Second {
		t.Fatalf("default limits %+v: want 512 connections and an idle timeout of seconds", limits)
	}
	// With the old idle timeout the idle connections stay: the newcomers
	// must not wait for them to time out.
	limits.IdleTimeout = 2 * time.Minute
	h := newHarnessLimits(t, Config{}, limits, true)
	const idle = 600
	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range idle {
		c, err := idleConn(h)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	var slowest time.Duration
	for i := range 20 {
		var req *http.Request
		switch i % 3 {
		case 0:
			req, _ = http.NewRequest(http.MethodGet, h.ts.URL+"/health", nil)
		case 1:
			req, _ = http.NewRequest(http.MethodGet, h.ts.URL+"/v1/models", nil)
		default:
			req, _ = http.NewRequest(http.MethodPost, h.ts.URL+"/v1/completions", strings.NewReader(`{"prompt":"x"}`))
			req.Header.Set("Content-Type", "application/json")
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d (%s) after the idle connections: %v", i, req.URL.Path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		slowest = max(slowest, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("request %d (%s): status %d", i, req.URL.Path, resp.StatusCode)
		}
	}
	t.Logf("slowest of the 20 requests: %v", slowest)
	if n := h.conns.openConns(); n > limits.MaxConnections {
		t.Errorf("%d connections open, above the limit of %d", n, limits.MaxConnections)
	}
	// The oldest idle connections were closed to make room for the 88
	// beyond the limit (and for the first requests after them).
	if closed := closedByServer(conns); closed < idle-limits.MaxConnections {
		t.Errorf("the server closed %d idle connections, want at least %d", closed, idle-limits.MaxConnections)
	}
}

// closedByServer counts the connections the server has closed: a read
// gets EOF at once where an open one would wait.
func closedByServer(conns []net.Conn) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return n
}

// TestOverLimitIsAnsweredAtOnce: with every connection busy (two streams
// running, --max-connections 2), a new client gets 503 with Retry-After
// and Connection: close at once, where it used to wait in the listen
// backlog; once the streams end, clients are served again.
func TestOverLimitIsAnsweredAtOnce(t *testing.T) {
	limits := DefaultHTTPLimits()
	limits.MaxConnections = 2
	h := newHarnessLimits(t, Config{}, limits, true)
	cancelFirst := holdStream(t, h)
	defer cancelFirst()
	cancelSecond := holdStream(t, h)
	defer cancelSecond()

	c := dialServer(t, h)
	fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer over the connection limit: %v", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !resp.Close {
		t.Errorf("over the limit: status %d, Retry-After %q, close %v; want 503, 1, true", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
	}
	if e := errorOf(t, readAll(t, resp)); deref(e.Code) != "too_many_connections" {
		t.Errorf("code %q", deref(e.Code))
	}

	cancelFirst()
	cancelSecond()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := client.Get(h.ts.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served 10 s after the streams ended: %v", err)
		}
	}
}
