package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// refuseLinger bounds how long a refused connection is held open after
// its 503, so that the client reads the answer rather than a reset.
const refuseLinger = time.Second

// maxRefusing bounds the refused connections lingering at once; beyond
// it, a refused connection is closed without an answer.
const maxRefusing = 256

// connTracker follows the server's connections through
// http.Server.ConnState. It bounds how many are open at once: when the
// bound is reached, a new connection takes the place of the connection
// that has been idle (between keep-alive requests) the longest, and when
// none is idle it is answered 503 at once and closed, rather than left
// waiting in the listen backlog. It also records which connections the
// client has half-closed (a clean EOF after a request), so that a client
// that waits for its answer is not taken for one that left (see
// requestContext).
type connTracker struct {
	max     int // 0: no bound
	log     *slog.Logger
	refusal []byte // the 503 sent to connections over the bound

	mu   sync.Mutex
	open map[*trackedConn]struct{}

	refusing atomic.Int64 // refused connections still lingering
	refused  atomic.Int64 // refused since the last warning
	warned   atomic.Int64 // unix seconds of the last warning
}

// newConnTracker returns a tracker bounding open connections to max (0:
// no bound).
func newConnTracker(max int, log *slog.Logger) *connTracker {
	e := &apiError{status: http.StatusServiceUnavailable, kind: typeUnavailable, code: "too_many_connections",
		message: fmt.Sprintf("the server has %d connections open, its limit; retry shortly", max)}
	body, _ := json.Marshal(e.body())
	refusal := fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"+
		"Retry-After: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\n", retryAfter, len(body)+1, body)
	return &connTracker{max: max, log: log, refusal: refusal, open: map[*trackedConn]struct{}{}}
}

// trackedConn is a connection the tracker follows.
type trackedConn struct {
	net.Conn
	t         *connTracker
	state     atomic.Int32  // its http.ConnState
	idleSince atomic.Int64  // unix nanoseconds it last went idle
	eof       chan struct{} // closed when a read ends with a clean EOF: the client closed its side
	eofOnce   sync.Once
	closeOnce sync.Once
}

// Read records a clean EOF: the client has closed its side of the
// connection, which it does both when it leaves and when it only
// half-closes to wait for its answer.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if errors.Is(err, io.EOF) {
		c.eofOnce.Do(func() { close(c.eof) })
	}
	return n, err
}

// Close closes the connection and frees its place.
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.t.remove(c) })
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does before it
// hangs up on a client whose request body it did not read, so that the
// client gets the response rather than a reset.
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// halfClosed reports whether the client has closed its side.
func (c *trackedConn) halfClosed() bool {
	select {
	case <-c.eof:
		return true
	default:
		return false
	}
}

// listen wraps ln so that its connections are tracked and bounded.
func (t *connTracker) listen(ln net.Listener) net.Listener {
	return &trackingListener{Listener: ln, t: t}
}

// trackingListener hands net/http tracked connections, within the bound.
type trackingListener struct {
	net.Listener
	t *connTracker
}

// Accept returns the next connection within the bound; it refuses
// connections beyond it (see connTracker) and goes on accepting.
func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := l.t.admit(c); tc != nil {
			return tc, nil
		}
	}
}

// admit tracks c, closing the longest-idle connection to make room when
// the bound is reached; with none idle it refuses c and returns nil.
func (t *connTracker) admit(c net.Conn) *trackedConn {
	tc := &trackedConn{Conn: c, t: t, eof: make(chan struct{})}
	t.mu.Lock()
	var evict *trackedConn
	if t.max > 0 && len(t.open) >= t.max {
		evict = t.longestIdle()
		if evict == nil {
			t.mu.Unlock()
			t.refuse(c)
			return nil
		}
		delete(t.open, evict) // its place is c's from now on
	}
	t.open[tc] = struct{}{}
	t.mu.Unlock()
	if evict != nil {
		evict.Close()
	}
	return tc
}

// longestIdle returns the open connection idle the longest, or nil. The
// caller holds t.mu.
func (t *connTracker) longestIdle() *trackedConn {
	var best *trackedConn
	for c := range t.open {
		if http.ConnState(c.state.Load()) != http.StateIdle {
			continue
		}
		if best == nil || c.idleSince.Load() < best.idleSince.Load() {
			best = c
		}
	}
	return best
}

// remove forgets a closed connection.
func (t *connTracker) remove(c *trackedConn) {
	t.mu.Lock()
	delete(t.open, c)
	t.mu.Unlock()
}

// refuse answers c with a 503 and closes it, in the background: it
// half-closes after the answer and reads what the client sends for up to
// refuseLinger, so that the client gets the answer rather than a reset.
func (t *connTracker) refuse(c net.Conn) {
	t.refused.Add(1)
	if now := time.Now().Unix(); t.warned.Load() <= now-10 && t.warned.Swap(now) <= now-10 {
		t.log.Warn("connection limit reached with no idle connection to close; refusing new connections with 503",
			"max_connections", t.max, "refused", t.refused.Swap(0))
	}
	if t.refusing.Add(1) > maxRefusing {
		t.refusing.Add(-1)
		c.Close()
		return
	}
	go func() {
		defer t.refusing.Add(-1)
		defer c.Close()
		c.SetDeadline(time.Now().Add(refuseLinger))
		if _, err := c.Write(t.refusal); err != nil {
			return
		}
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// setState is http.Server.ConnState: it records each connection's state
// and since when it is idle.
func (t *connTracker) setState(c net.Conn, s http.ConnState) {
	tc, ok := c.(*trackedConn)
	if !ok {
		return
	}
	if s == http.StateIdle {
		tc.idleSince.Store(time.Now().UnixNano())
	}
	tc.state.Store(int32(s))
}

// connKey keys a request's tracked connection in its context.
type connKey struct{}

// connContext is http.Server.ConnContext: it puts the tracked connection
// in the context of its requests.
func (t *connTracker) connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*trackedConn); ok {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// openConns returns the number of connections open.
func (t *connTracker) openConns() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.open)
}
