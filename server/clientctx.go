package server

import (
	"context"
	"net/http"
)

// requestContext returns the context a request's work runs under, and
// its cancel function, which the caller calls when a write to the client
// fails and when the request is done.
//
// net/http cancels r.Context() as soon as its background read of the
// connection ends. A client that half-closes after a complete request
// (shutdown(SHUT_WR), as nc -N and some proxies do) ends that read with a
// clean EOF although it waits for its answer, and a client that hangs up
// ends it the same way: the two cannot be told apart by reading. Sieve
// serves the half-closed client: a clean EOF does not end the request's
// context; a connection error (a reset), the connection's close, a failed
// write (see statusWriter) or the end of the request does. A stream whose
// client has closed its side is probed by its writes (see
// generation.next), so a client that left mid-stream is found within a
// second; a non-streamed request whose client hangs up runs to its end.
func requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	tc, ok := r.Context().Value(connKey{}).(*trackedConn)
	if !ok {
		return context.WithCancel(r.Context())
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	stop := context.AfterFunc(r.Context(), func() {
		if !tc.halfClosed() {
			cancel()
		}
	})
	return ctx, func() {
		stop()
		cancel()
	}
}

// clientHalfClosed returns a channel that is closed once the client of
// the request with ctx has closed its side of the connection (it may have
// left, or only be waiting for its answer); nil, which never is, for a
// connection the server does not track.
func clientHalfClosed(ctx context.Context) <-chan struct{} {
	if tc, ok := ctx.Value(connKey{}).(*trackedConn); ok {
		return tc.eof
	}
	return nil
}
