package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"sieve/engine"
)

// ctxKey keys the request's values in its context.
type ctxKey int

const (
	keyLogger ctxKey = iota
	keyRequestID
	keyOutcome
)

// newID returns a new random request id.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestLogger returns the request's logger.
func requestLogger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// requestID returns the request's id.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// validClientID reports whether a client-sent X-Request-Id can be reused.
func validClientID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response, and gives every
// write its own deadline of timeout (0: none), so that a client that stops
// reading frees the handler while a stream that keeps flowing is never cut.
// A failed write or flush calls failed (the client is gone). It passes
// Flush through (for streaming) and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	failed  func()
	status  int
	bytes   int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.deadline()
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	if err != nil && w.failed != nil {
		w.failed()
	}
	return n, err
}

// Flush implements http.Flusher.
func (w *statusWriter) Flush() { w.FlushError() }

// FlushError flushes, reporting (and recording) a failed write; the
// http.ResponseController of a handler prefers it to Flush.
func (w *statusWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.deadline()
	err := w.rc.Flush()
	if err != nil && w.failed != nil {
		w.failed()
	}
	return err
}

// deadline extends the write deadline by the timeout from now.
func (w *statusWriter) deadline() {
	if w.timeout > 0 {
		w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	}
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// outcome is what a handler tells the access log beyond the status: that
// the client went away before the response was complete, and how its
// generation finished (cancelled with a 200 is the server's cancellation,
// at shutdown) with its tokens.
type outcome struct {
	clientClosed bool
	generated    bool
	finish       engine.FinishReason
	usage        engine.Usage
}

// requestOutcome returns the request's outcome record, or a throwaway one.
func requestOutcome(ctx context.Context) *outcome {
	if o, ok := ctx.Value(keyOutcome).(*outcome); ok {
		return o
	}
	return &outcome{}
}

// logStatus is the status the access log and metrics record: 499 (nginx's
// "client closed request") for a client that left before its response was
// complete, whatever was already sent, else the status written (200 when
// a handler wrote nothing, as net/http sends).
func logStatus(written int, o *outcome, ctx context.Context) int {
	switch {
	case o.clientClosed:
		return statusClientClosed
	case written == 0 && ctx.Err() != nil:
		return statusClientClosed
	case written == 0:
		return http.StatusOK
	}
	return written
}

// middleware wraps every request: request id, logger, panic recovery,
// access log and HTTP metrics.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validClientID(id) {
			id = newID()
		}
		w.Header().Set("X-Request-Id", id)
		log := s.log.With("request_id", id)
		o := &outcome{}
		ctx, cancel := requestContext(r)
		defer cancel()
		ctx = context.WithValue(ctx, keyLogger, log)
		ctx = context.WithValue(ctx, keyRequestID, id)
		ctx = context.WithValue(ctx, keyOutcome, o)
		sw := &statusWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: s.cfg.WriteTimeout, failed: cancel}
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.Error("panic in handler", "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, &apiError{status: http.StatusInternalServerError, kind: typeServer,
						message: "internal server error"})
				}
			}
			status := logStatus(sw.status, o, ctx)
			s.metrics.observeHTTP(routeLabel(r.URL.Path), status)
			attrs := []any{"method", r.Method, "path", r.URL.Path, "status", status,
				"bytes", sw.bytes, "duration", time.Since(start).Round(time.Microsecond)}
			if o.generated {
				attrs = append(attrs, "finish", o.finish, "prompt_tokens", o.usage.PromptTokens, "completion_tokens", o.usage.CompletionTokens)
			}
			log.Info("http request", attrs...)
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// routeLabel maps a path to a bounded metric label.
func routeLabel(path string) string {
	switch {
	case path == "/v1/completions", path == "/v1/chat/completions", path == "/v1/models",
		path == "/health", path == "/metrics", path == "/tokenize", path == "/detokenize", path == "/version":
		return path
	case strings.HasPrefix(path, "/v1/models/"):
		return "/v1/models/{model}"
	}
	return "other"
}

// auth requires the API key, when one is configured, on every route it
// wraps (all of /v1/). The scheme is matched case-insensitively (RFC 7235:
// "bearer KEY" works), and the key is compared as SHA-256 digests in
// constant time, so neither its bytes nor its length leak through timing.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.APIKey == "" {
		return next
	}
	want := sha256.Sum256([]byte(s.cfg.APIKey))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, key, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(key)))
		ok := subtle.ConstantTimeCompare(got[:], want[:]) == 1
		if !strings.EqualFold(scheme, "Bearer") || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sieve"`)
			writeError(w, &apiError{status: http.StatusUnauthorized, kind: typeAuthentication, code: "invalid_api_key",
				message: "missing or incorrect API key; send it as \"Authorization: Bearer KEY\""})
			return
		}
		next.ServeHTTP(w, r)
	})
}
