package server

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// drainState counts the requests that use the model, so that a shutdown
// can refuse new ones while the running ones finish.
type drainState struct {
	draining atomic.Bool
	inflight atomic.Int64
}

// enter counts a request in, or reports false once draining has begun.
// It counts before it looks, so Drain never misses a request it let in.
func (d *drainState) enter() bool {
	d.inflight.Add(1)
	if d.draining.Load() {
		d.inflight.Add(-1)
		return false
	}
	return true
}

// leave counts a request out.
func (d *drainState) leave() { d.inflight.Add(-1) }

// Drain starts refusing requests that need the model (503
// "shutting_down") and makes /health answer 503 at once, then waits until
// the requests already running have finished, or ctx ends (its error is
// returned). The listener stays open, so probes and load balancers see the
// 503s; the caller shuts the HTTP server down afterwards.
func (s *Server) Drain(ctx context.Context) error {
	s.drain.draining.Store(true)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for s.drain.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("server: drain: %d requests still running: %w", s.drain.inflight.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// shuttingDown is the answer to requests that arrive while draining.
func shuttingDown(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	writeError(w, &apiError{status: http.StatusServiceUnavailable, kind: typeUnavailable, code: "shutting_down",
		message: "the server is shutting down; retry on another replica"})
}
