package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"
)

// decodeBody reads r's JSON body, at most MaxBodyBytes, into v. Errors are
// *apiError values ready to send. The body must arrive within ReadTimeout
// (a client sending a byte a second is cut off, 408); the read deadline is
// lifted once it is in, so that a long stream is not cancelled by it.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ae := checkJSONType(r.Header.Get("Content-Type")); ae != nil {
		return ae
	}
	if ae := checkEncoding(r.Header); ae != nil {
		return ae
	}
	rc := http.NewResponseController(w)
	if s.cfg.ReadTimeout > 0 {
		rc.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if s.cfg.ReadTimeout > 0 && err == nil {
		// Lifted only once the body is in: after a timeout the deadline
		// stays past, or net/http would go on reading the rest of a
		// trickling body (to reuse the connection) before the 408 goes out.
		rc.SetReadDeadline(time.Time{})
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			return &apiError{status: http.StatusRequestTimeout, kind: typeInvalidRequest, code: "request_timeout",
				message: fmt.Sprintf("the request body did not arrive within %v", s.cfg.ReadTimeout)}
		}
		if errors.As(err, &tooBig) {
			return &apiError{
				status:  http.StatusRequestEntityTooLarge,
				kind:    typeInvalidRequest,
				code:    "request_too_large",
				message: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit),
			}
		}
		return badRequest("", "could not read the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("", "the request body is empty; send a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			if typeErr.Field == "" {
				return badRequest("", "the request body must be a JSON object, not %s", typeErr.Value)
			}
			field := fieldPath(typeErr.Field)
			return badRequest(field, "invalid type for %q: expected %s, got %s", field, describeType(typeErr.Type), typeErr.Value)
		case errors.As(err, &syntaxErr):
			return badRequest("", "malformed JSON at byte %d: %v", syntaxErr.Offset, err)
		}
		return badRequest("", "malformed JSON: %v", err)
	}
	if ae := s.checkFields(r.Context(), body, v); ae != nil {
		return ae
	}
	return nil
}

// checkJSONType refuses a body that is not declared as JSON with 415. A
// browser sends text/plain, form and multipart bodies (and bodies with no
// type) cross-origin without a CORS preflight, so parsing those as JSON
// would let any web page drive a local server through its visitor's
// browser; FastAPI closed the same hole (CVE-2021-32677) by requiring a
// JSON content type, and so does Sieve. "application/json" with any
// parameters (charset) and "+json" types are accepted.
func checkJSONType(header string) *apiError {
	mt, _, err := mime.ParseMediaType(header)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	got := "no Content-Type"
	if header != "" {
		got = fmt.Sprintf("Content-Type %q", header)
	}
	return &apiError{status: http.StatusUnsupportedMediaType, kind: typeInvalidRequest, code: "unsupported_media_type",
		message: fmt.Sprintf("the request body must be JSON sent with \"Content-Type: application/json\", got %s", got)}
}

// fieldPath drops the Go-side embedding from a JSON error's field path.
func fieldPath(f string) string {
	return strings.TrimPrefix(f, "samplingFields.")
}

// describeType names the JSON type a Go type accepts, for error messages.
func describeType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[prompt]():
		return "a string, an array of strings, or an array of token ids"
	case reflect.TypeFor[stopList]():
		return "a string or an array of strings"
	case reflect.TypeFor[chatContent]():
		return "a string or an array of content parts"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return t.String()
}

// jsonKind names the JSON type of raw, as encoding/json does in its errors.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '[':
		return "array"
	case '{':
		return "object"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// typeError is the error a custom decoder returns for a value of the wrong
// JSON type; encoding/json adds the field name.
func typeError[T any](raw []byte) error {
	return &json.UnmarshalTypeError{Value: jsonKind(raw), Type: reflect.TypeFor[T]()}
}

func isNull(raw []byte) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// prompt is the completions prompt: a string, an array of strings, an array
// of token ids, or an array of such arrays.
type prompt struct {
	Set    bool
	Texts  []string
	Tokens [][]int64
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *prompt) UnmarshalJSON(raw []byte) error {
	*p = prompt{}
	if isNull(raw) {
		return nil
	}
	p.Set = true
	var s string
	if json.Unmarshal(raw, &s) == nil {
		p.Texts = []string{s}
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return typeError[prompt](raw)
	}
	if len(items) == 0 {
		return nil
	}
	switch jsonKind(items[0]) {
	case "string":
		if json.Unmarshal(raw, &p.Texts) == nil {
			return nil
		}
	case "number":
		var ids []int64
		if json.Unmarshal(raw, &ids) == nil {
			p.Tokens = [][]int64{ids}
			return nil
		}
	case "array":
		if json.Unmarshal(raw, &p.Tokens) == nil {
			return nil
		}
	}
	return typeError[prompt](raw)
}

// stopList is the stop field: a string or an array of strings.
type stopList []string

// UnmarshalJSON implements json.Unmarshaler.
func (s *stopList) UnmarshalJSON(raw []byte) error {
	*s = nil
	if isNull(raw) {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		*s = stopList{one}
		return nil
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return typeError[stopList](raw)
	}
	*s = many
	return nil
}

// chatContent is a message's content: a string, or an array of parts of
// which Sieve supports the text ones.
type chatContent struct {
	Text  string
	Parts []contentPart // nil when the content was a string
	Set   bool          // false when the content was null or missing
}

// contentPart is one element of an array content.
type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *chatContent) UnmarshalJSON(raw []byte) error {
	*c = chatContent{}
	if isNull(raw) {
		return nil
	}
	c.Set = true
	if json.Unmarshal(raw, &c.Text) == nil {
		return nil
	}
	if json.Unmarshal(raw, &c.Parts) != nil || c.Parts == nil {
		return typeError[chatContent](raw)
	}
	return nil
}

// String joins the text of the content.
func (c chatContent) String() (string, error) {
	if c.Parts == nil {
		return c.Text, nil
	}
	var b strings.Builder
	for i, p := range c.Parts {
		if p.Type != "text" {
			return "", fmt.Errorf("content part %d has type %q; only \"text\" parts are supported", i, p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}
