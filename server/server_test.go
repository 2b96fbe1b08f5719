package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestHealthBeforeAndAfterLoad(t *testing.T) {
	h := newHarness(t, Config{}, false)
	h.checkGETs("before load: ", []getCase{
		{"/health", http.StatusServiceUnavailable},
		{"/v1/models", http.StatusServiceUnavailable},
		{"/metrics", http.StatusOK},
	})
	resp, body := h.post("/v1/completions", `{"prompt":"x"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || errorOf(t, body).Type != typeUnavailable {
		t.Errorf("completion before load = %d %s", resp.StatusCode, body)
	}
	h.ready("")
	resp, body = h.do(http.MethodGet, "/health", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("after load: GET /health = %d %s", resp.StatusCode, body)
	}
}

func TestModels(t *testing.T) {
	h := newHarness(t, Config{ModelName: "stories260K"}, true)
	resp, body := h.do(http.MethodGet, "/v1/models", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/models = %d %s", resp.StatusCode, body)
	}
	list := decode[modelList](t, body)
	if list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != "stories260K" || list.Data[0].Object != "model" ||
		list.Data[0].OwnedBy == "" || list.Data[0].Created == 0 || list.Data[0].MaxModelLen != testContext {
		t.Errorf("model list = %+v", list)
	}
	h.checkGETs("", []getCase{
		{"/v1/models/stories260K", http.StatusOK},
		{"/v1/models/gpt-4", http.StatusNotFound},
	})
}

// getCase is a path and the status a GET of it should answer.
type getCase struct {
	path   string
	status int
}

// checkGETs reports each case whose GET answers another status; prefix
// starts each report.
func (h *harness) checkGETs(prefix string, cases []getCase) {
	h.t.Helper()
	for _, c := range cases {
		resp, body := h.do(http.MethodGet, c.path, "")
		if resp.StatusCode != c.status {
			h.t.Errorf("%sGET %s = %d %s, want %d", prefix, c.path, resp.StatusCode, body, c.status)
		}
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t, Config{}, true)
	resp, body := h.do(http.MethodPost, "/v1/completions", `{"prompt":"x"}`, "X-Request-Id", "client-abc.1")
	if got := resp.Header.Get("X-Request-Id"); got != "client-abc.1" {
		t.Errorf("X-Request-Id = %q, want the client's", got)
	}
	if id := decode[completionResponse](t, body).ID; id != "cmpl-client-abc.1" {
		t.Errorf("id = %q", id)
	}
	if h.gen.last().ID != "client-abc.1" {
		t.Errorf("engine request id = %q", h.gen.last().ID)
	}
	resp, _ = h.do(http.MethodGet, "/health", "", "X-Request-Id", "bad id with spaces")
	id := resp.Header.Get("X-Request-Id")
	if id == "" || strings.Contains(id, " ") {
		t.Errorf("generated X-Request-Id = %q", id)
	}
	if !strings.Contains(h.logs.String(), "request_id="+id) {
		t.Errorf("logs do not mention request id %s", id)
	}
}
