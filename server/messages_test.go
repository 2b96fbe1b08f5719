package server

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
)

// TestMessageRolesAndContent: a role outside OpenAI's set, or a null or
// missing content on any message but the assistant's, is a 400 naming the
// field, as OpenAI answers; an assistant message may leave its content out.
func TestMessageRolesAndContent(t *testing.T) {
	h := newHarness(t, Config{}, true)
	tests := []struct {
		name     string
		messages string
		status   int
		param    string
		contains string
	}{
		{"user content null", `[{"role":"user","content":null}]`, 400, "messages[0].content", "required for a user message"},
		{"user content missing", `[{"role":"user"}]`, 400, "messages[0].content", "not null"},
		{"system content null", `[{"role":"system","content":null},{"role":"user","content":"x"}]`, 400, "messages[0].content", "system"},
		{"tool content null", `[{"role":"user","content":"x"},{"role":"tool","content":null}]`, 400, "messages[1].content", "tool"},
		{"unknown role", `[{"role":"bot","content":"x"}]`, 400, "messages[0].role", `"bot"`},
		{"role in capitals", `[{"role":"User","content":"x"}]`, 400, "messages[0].role", "supported values"},
		{"legacy function role", `[{"role":"function","content":"x","name":"f"}]`, 400, "messages[0].role", "function"},
		{"assistant content null", `[{"role":"user","content":"x"},{"role":"assistant","content":null},{"role":"user","content":"y"}]`, 200, "", ""},
		{"assistant content missing", `[{"role":"user","content":"x"},{"role":"assistant"},{"role":"user","content":"y"}]`, 200, "", ""},
		{"developer message", `[{"role":"developer","content":"be brief"},{"role":"user","content":"x"}]`, 200, "", ""},
		{"empty user content", `[{"role":"user","content":""}]`, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.post("/v1/chat/completions", `{"messages":`+tt.messages+`}`)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 {
				return
			}
			e := errorOf(t, body)
			if deref(e.Param) != tt.param || !strings.Contains(e.Message, tt.contains) {
				t.Errorf("error param %q message %q, want param %q and %q", deref(e.Param), e.Message, tt.param, tt.contains)
			}
		})
	}
}

// TestContentEncoding: a compressed body is a 415 naming Content-Encoding,
// not a 400 about malformed JSON; identity is accepted.
func TestContentEncoding(t *testing.T) {
	h := newHarness(t, Config{}, true)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"prompt":"x","messages":[{"role":"user","content":"x"}]}`))
	zw.Close()
	tests := []struct {
		encoding string
		body     string
		status   int
	}{
		{"gzip", gz.String(), 415},
		{"br", `{"prompt":"x","messages":[{"role":"user","content":"x"}]}`, 415},
		{"identity, gzip", gz.String(), 415},
		{"identity", `{"prompt":"x","messages":[{"role":"user","content":"x"}]}`, 200},
		{"Identity", `{"prompt":"x","messages":[{"role":"user","content":"x"}]}`, 200},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
			resp, body := h.do(http.MethodPost, path, tt.body, "Content-Encoding", tt.encoding)
			if resp.StatusCode != tt.status {
				t.Errorf("POST %s with Content-Encoding %q = %d %s, want %d", path, tt.encoding, resp.StatusCode, body, tt.status)
				continue
			}
			if tt.status != 415 {
				continue
			}
			if e := errorOf(t, body); deref(e.Code) != "unsupported_media_type" || !strings.Contains(e.Message, "Content-Encoding") {
				t.Errorf("415 body %s does not name Content-Encoding", body)
			}
		}
	}
}
