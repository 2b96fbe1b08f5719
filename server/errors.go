package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"sieve/engine"
	"sieve/sparsity"
)

// OpenAI error types.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typeNotFound       = "not_found_error"
	typeRateLimit      = "rate_limit_error"
	typeServer         = "server_error"
	typeUnavailable    = "service_unavailable_error"
)

// statusClientClosed is the status logged for a request whose client went
// away (nginx's convention); nobody receives it.
const statusClientClosed = 499

// apiError is an error sent to the client in OpenAI's shape.
type apiError struct {
	status  int
	kind    string // the "type" field
	code    string // the "code" field; empty sends null
	param   string // the "param" field; empty sends null
	message string
}

// Error implements error.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.kind, e.message) }

// errorBody is the JSON body of an error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail is the inner error object.
type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (e *apiError) body() errorBody {
	d := errorDetail{Message: e.message, Type: e.kind}
	if e.param != "" {
		d.Param = &e.param
	}
	if e.code != "" {
		d.Code = &e.code
	}
	return errorBody{Error: d}
}

// badRequest returns a 400 error about param (may be empty).
func badRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, kind: typeInvalidRequest, param: param, message: fmt.Sprintf(format, args...)}
}

// modelNotFound returns the 404 for a request naming another model.
func modelNotFound(name string) *apiError {
	return &apiError{
		status: http.StatusNotFound, kind: typeNotFound, param: "model", code: "model_not_found",
		message: fmt.Sprintf("the model %q does not exist", name),
	}
}

// fromEngine maps an error from the generator to the error sent.
func fromEngine(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, engine.ErrQueueFull):
		return &apiError{status: http.StatusTooManyRequests, kind: typeRateLimit, code: "queue_full",
			message: "the server is at capacity; retry later"}
	case errors.Is(err, engine.ErrTooLong):
		return &apiError{status: http.StatusBadRequest, kind: typeInvalidRequest, code: "context_length_exceeded",
			message: publicMessage(err)}
	case errors.Is(err, sparsity.ErrBadSpec):
		return &apiError{status: http.StatusBadRequest, kind: typeInvalidRequest, param: "kv_budget", message: publicMessage(err)}
	case errors.Is(err, engine.ErrBadRequest):
		return &apiError{status: http.StatusBadRequest, kind: typeInvalidRequest, message: publicMessage(err)}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: statusClientClosed, kind: typeInvalidRequest, code: "client_closed_request",
			message: "the client closed the request"}
	case errors.Is(err, engine.ErrClosed):
		return &apiError{status: http.StatusServiceUnavailable, kind: typeUnavailable, code: "shutting_down",
			message: "the server is shutting down"}
	}
	return &apiError{status: http.StatusInternalServerError, kind: typeServer, message: "internal error: " + err.Error()}
}

// publicMessage is err's text without the package prefixes of the
// sentinel errors it wraps ("engine: invalid request: sparsity: bad spec:
// "), which mean nothing to a client.
func publicMessage(err error) string {
	msg := err.Error()
	for {
		trimmed := msg
		for _, sentinel := range []error{engine.ErrBadRequest, engine.ErrTooLong, sparsity.ErrBadSpec} {
			trimmed = strings.TrimPrefix(trimmed, sentinel.Error()+": ")
		}
		if trimmed == msg {
			return msg
		}
		msg = trimmed
	}
}

// fail logs why a request failed and sends its error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	level := slog.LevelInfo
	if e.status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	requestLogger(r.Context(), s.log).Log(r.Context(), level, "request failed",
		"status", e.status, "param", e.param, "error", e.message)
	writeError(w, e)
}

// retryAfter is the Retry-After of 429 and 503 answers, in seconds: the
// queue and the loading model move on the scale of a second.
const retryAfter = "1"

// writeError sends err as an OpenAI error response. A 429 or 503 carries
// Retry-After (RFC 9110), which OpenAI's clients honour when they retry.
func writeError(w http.ResponseWriter, err *apiError) {
	if err.status == http.StatusTooManyRequests || err.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, err.status, err.body())
}

// writeJSON sends v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"could not encode the response","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
