package server

import (
	"log/slog"
	"net/http"
	"time"
)

// HTTPLimits bound what a client can hold of the server's connections.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds the time to send the request headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to send the body once the headers are
	// in; 0 is no limit.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of a response; 0 is no limit.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request.
	IdleTimeout time.Duration
	// MaxConnections bounds the connections open at once; 0 is no limit.
	// At the bound, the connection idle the longest is closed to make
	// room, or with none idle the newcomer is answered 503 at once.
	MaxConnections int
}

// DefaultHTTPLimits returns the limits of "sieve serve" unless flags say
// otherwise.
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       5 * time.Second, // as uvicorn's keep-alive (vLLM)
		MaxConnections:    512,
	}
}

// newHTTPServer returns the http.Server for h and the tracker of its
// connections, whose listen must wrap the listener it serves. Only the
// header and idle timeouts are the server's own: http.Server's ReadTimeout
// and WriteTimeout run from the start of a request, so they would cut a
// stream that lasts longer (and an expired read deadline cancels the
// request's context). The body's read deadline and a deadline per write
// are set per request instead, through http.ResponseController, as
// net/http's documentation suggests for long-lived responses (see
// Server.decodeBody and statusWriter).
func newHTTPServer(h http.Handler, l HTTPLimits, log *slog.Logger) (*http.Server, *connTracker) {
	conns := newConnTracker(l.MaxConnections, log)
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         conns.setState,
		ConnContext:       conns.connContext,
	}, conns
}
