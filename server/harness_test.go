package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// testContext is the context length of the fake backend.
const testContext = 64

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a Server with a fake generator behind a real HTTP listener,
// served as "sieve serve" serves it (newHTTPServer, its connection
// tracker).
type harness struct {
	t     *testing.T
	srv   *Server
	gen   *fakeGen
	ts    *httptest.Server
	hs    *http.Server
	conns *connTracker
	logs  *syncBuffer
}

// newHarness starts a server named "test-model" with the default HTTP
// limits; ready installs the fake backend.
func newHarness(t *testing.T, cfg Config, ready bool) *harness {
	t.Helper()
	return newHarnessLimits(t, cfg, DefaultHTTPLimits(), ready)
}

// newHarnessLimits is newHarness with the given HTTP limits.
func newHarnessLimits(t *testing.T, cfg Config, limits HTTPLimits, ready bool) *harness {
	t.Helper()
	if cfg.ModelName == "" {
		cfg.ModelName = "test-model"
	}
	logs := &syncBuffer{}
	h := &harness{t: t, gen: newFakeGen(), logs: logs}
	log := slog.New(slog.NewTextHandler(logs, nil))
	h.srv = New(cfg, log)
	if ready {
		h.ready("")
	}
	h.ts = httptest.NewUnstartedServer(h.srv)
	h.hs, h.conns = newHTTPServer(h.srv, limits, log)
	h.ts.Config = h.hs
	h.ts.Listener = h.conns.listen(h.ts.Listener)
	h.ts.Start()
	t.Cleanup(h.ts.Close)
	return h
}

// ready installs the fake backend with the given model chat template.
func (h *harness) ready(template string) {
	h.t.Helper()
	err := h.srv.SetBackend(Backend{Generator: h.gen, Tokenizer: byteTok{}, ContextLen: testContext, ChatTemplate: template})
	if err != nil {
		h.t.Fatal(err)
	}
}

// do sends a request and returns the response with its body read. A POST
// is sent as application/json; header holds name, value pairs that
// override that (an empty value removes the header).
func (h *harness) do(method, path, body string, header ...string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i]) // an empty value sends no such header
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, b
}

// post sends a JSON body built from v (a string is sent as is).
func (h *harness) post(path string, v any) (*http.Response, []byte) {
	h.t.Helper()
	body, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			h.t.Fatal(err)
		}
		body = string(b)
	}
	return h.do(http.MethodPost, path, body)
}

// decode unmarshals b into a new T, failing the test on error.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

// sseEvents splits an event-stream body into its data payloads, failing
// on anything that is not a "data:" event.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	text := string(body)
	if !strings.HasSuffix(text, "\n\n") {
		t.Fatalf("stream does not end with a blank line: %q", text)
	}
	for _, ev := range strings.Split(strings.TrimSuffix(text, "\n\n"), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("malformed event %q", ev)
		}
		out = append(out, data)
	}
	return out
}

// errorOf decodes an OpenAI error body, checking its shape.
func errorOf(t *testing.T, b []byte) errorDetail {
	t.Helper()
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := raw["error"][k]; !ok {
			t.Errorf("error body %s lacks error.%s", b, k)
		}
	}
	e := decode[errorBody](t, b).Error
	if e.Message == "" || e.Type == "" {
		t.Errorf("error body %s has an empty message or type", b)
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}
