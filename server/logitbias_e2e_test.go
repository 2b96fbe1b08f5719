package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A logit bias of +100 on one token ("▁upon") makes stories260K write
// nothing else under greedy decoding; the text is that token's, as
// /detokenize spells it.
func TestEndToEndLogitBiasForcesAToken(t *testing.T) {
	h := newRealHarness(t)
	_, body := h.post("/tokenize", `{"prompt":"upon","add_special_tokens":false}`)
	tok := decode[tokenizeResponse](t, body)
	if tok.Count != 1 {
		t.Fatalf("\"upon\" is %d tokens, want one: %s", tok.Count, body)
	}
	upon := tok.Tokens[0]
	for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
		req := fmt.Sprintf(`{"prompt":"Once upon a time","max_tokens":4,"temperature":0,"logit_bias":{"%d":100}}`, upon)
		if path == "/v1/chat/completions" {
			req = fmt.Sprintf(`{"messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":4,"temperature":0,"logit_bias":{"%d":100}}`, upon)
		}
		resp, body := h.post(path, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
		}
		var text string
		if path == "/v1/completions" {
			text = decode[completionResponse](t, body).Choices[0].Text
		} else {
			text = *decode[chatResponse](t, body).Choices[0].Message.Content
		}
		_, want := h.post("/detokenize", fmt.Sprintf(`{"tokens":[%d,%d,%d,%d]}`, upon, upon, upon, upon))
		if w := decode[detokenizeResponse](t, want).Prompt; strings.TrimSpace(text) != strings.TrimSpace(w) {
			t.Errorf("%s wrote %q, want %q", path, text, w)
		}
	}
}
