package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestTextLimit(t *testing.T) {
	// byteTok: pieces of one byte (+1 for a leading space), and control
	// tokens up to "<|start_header_id|>", 19 bytes.
	if got, want := textLimit(byteTok{}, 64), 64*19; got != want {
		t.Errorf("textLimit(byteTok, 64) = %d, want %d", got, want)
	}
	if got := textLimit(byteTok{}, int(^uint(0)>>1)); got != int(^uint(0)>>1) {
		t.Errorf("textLimit does not saturate: %d", got)
	}
}

// TestOverContextTextRefusedUntokenized is the 4 MiB prompt recipe: a
// prompt or conversation longer than the context's tokens can hold is
// refused with a 400 before it is tokenized or rendered, and never
// reaches the generator.
func TestOverContextTextRefusedUntokenized(t *testing.T) {
	h := newHarness(t, Config{}, true)
	long := strings.Repeat("a", testContext*19+1)
	tests := []struct {
		path, body, param string
	}{
		{"/v1/completions", `{"prompt":"` + long + `"}`, "prompt"},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"` + long + `"}]}`, "messages"},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"` + long[:700] + `"},{"role":"user","content":"` + long[:700] + `"}]}`, "messages"},
	}
	for _, tt := range tests {
		resp, body := h.post(tt.path, tt.body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d: %.300s", tt.path, resp.StatusCode, body)
		}
		e := errorOf(t, body)
		if deref(e.Param) != tt.param || deref(e.Code) != "context_length_exceeded" || !strings.Contains(e.Message, "bytes long") {
			t.Errorf("%s: error %+v", tt.path, e)
		}
	}
	if n := len(h.gen.reqs); n != 0 {
		t.Errorf("%d requests reached the generator", n)
	}
}
