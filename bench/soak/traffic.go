package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Outcome is how one soak request ended.
type Outcome string

// The outcomes. The last three are failures of the server.
const (
	OK           Outcome = "ok"           // a valid request answered in full
	Disconnected Outcome = "disconnected" // the client hung up mid-stream on purpose
	Refused      Outcome = "refused"      // a malformed or over-context request answered 4xx, as it should be
	Busy         Outcome = "busy"         // 429: the server's queue was full
	ServerError  Outcome = "server_error" // a 5xx, an error event in a stream, or a stream cut short
	Unexpected   Outcome = "unexpected"   // a valid request refused, a bad one accepted, or a malformed answer
	Transport    Outcome = "transport"    // the connection failed
)

// Failed reports whether o counts against the server.
func (o Outcome) Failed() bool { return o == ServerError || o == Unexpected || o == Transport }

// malformed are request bodies a server must refuse with a 4xx.
var malformed = []string{
	`{"prompt": "Once upon`,
	`{"prompt": 5, "max_tokens": 4}`,
	`{"prompt": "x", "max_tokens": -3}`,
	`{"prompt": "x", "max_tokens": 4, "kv_policy": "no-such-policy"}`,
	`{"prompt": "x", "temperature": "hot"}`,
	`{"prompt": "x", "top_p": 2}`,
	`hello, not JSON`,
	`{"messages": []}`,
	`{"messages": [{"role": "user"}], "max_tokens": "many"}`,
}

// words fill random prompts.
var words = strings.Fields("once upon a time there was a little girl named lily she liked to play in the park with her big red ball and her dog")

// request is one planned soak request.
type request struct {
	path       string
	body       []byte
	stream     bool
	hangUpAt   int  // content chunks after which the client disconnects (0: never)
	shouldFail bool // malformed or over the context: a 4xx is the right answer
}

// planner draws soak requests.
type planner struct {
	rng        *rand.Rand
	cfg        Config
	contextLen int
}

// next draws the next request of the mix.
func (p *planner) next() request {
	r := p.rng
	chat := r.IntN(2) == 0
	path := "/v1/completions"
	if chat {
		path = "/v1/chat/completions"
	}
	roll := r.Float64()
	if roll < p.cfg.MalformedShare {
		return request{path: path, body: []byte(malformed[r.IntN(len(malformed))]), shouldFail: true}
	}
	body := map[string]any{}
	if p.cfg.Model != "" {
		body["model"] = p.cfg.Model
	}
	var text string
	over := roll < p.cfg.MalformedShare+p.cfg.OverContextShare
	if over {
		text = strings.Repeat("the ", 2*p.contextLen) // at least a token a word
	} else {
		n := 1 + r.IntN(p.cfg.MaxPromptWords)
		w := make([]string, n)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		text = strings.Join(w, " ")
		body["max_tokens"] = 1 + r.IntN(p.cfg.MaxTokens)
	}
	if chat {
		body["messages"] = []map[string]string{{"role": "user", "content": text}}
	} else {
		body["prompt"] = text
	}
	if len(p.cfg.Policies) > 0 {
		// Sparse policies get a budget; full and the server's default none.
		if pol := p.cfg.Policies[r.IntN(len(p.cfg.Policies))]; pol != "" {
			body["kv_policy"] = pol
			if pol != "full" && len(p.cfg.Budgets) > 0 {
				body["kv_budget"] = p.cfg.Budgets[r.IntN(len(p.cfg.Budgets))]
			}
		}
	}
	if r.IntN(2) == 0 {
		body["temperature"] = 0
	}
	req := request{path: path, stream: r.IntN(2) == 0, shouldFail: over}
	body["stream"] = req.stream
	if req.stream && r.Float64() < p.cfg.DisconnectShare {
		req.hangUpAt = 1 + r.IntN(4)
	}
	req.body, _ = json.Marshal(body)
	return req
}

// send runs one request and classifies how it ended; detail explains a
// failure.
// Requests cut short by the end of the soak (ctx) are not counted: their
// outcome is "".
func send(soakCtx context.Context, hc *http.Client, base, apiKey string, q request) (o Outcome, detail string) {
	ctx, cancel := context.WithCancel(soakCtx)
	defer cancel()
	defer func() {
		if o != Disconnected && soakCtx.Err() != nil {
			o, detail = "", ""
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+q.path, bytes.NewReader(q.body))
	if err != nil {
		return Transport, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Transport, err.Error()
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		io.Copy(io.Discard, resp.Body)
		return Busy, ""
	case code >= 500:
		return ServerError, fmt.Sprintf("%s %s: HTTP %d %s", q.path, short(q.body), code, head(resp.Body))
	case code >= 400 && q.shouldFail:
		io.Copy(io.Discard, resp.Body)
		return Refused, ""
	case code != http.StatusOK:
		return Unexpected, fmt.Sprintf("%s %s: HTTP %d %s", q.path, short(q.body), code, head(resp.Body))
	case q.shouldFail:
		return Unexpected, fmt.Sprintf("%s %s: accepted with HTTP 200", q.path, short(q.body))
	}
	if !q.stream {
		var v struct {
			Choices []json.RawMessage `json:"choices"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || len(v.Choices) == 0 {
			return Unexpected, fmt.Sprintf("%s: bad response (%v)", q.path, err)
		}
		return OK, ""
	}
	return readStream(resp.Body, q, cancel)
}

// readStream reads a stream to [DONE], or hangs up after q.hangUpAt
// content chunks.
func readStream(body io.Reader, q request, hangUp context.CancelFunc) (Outcome, string) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	chunks := 0
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			return OK, ""
		}
		if strings.HasPrefix(data, `{"error"`) {
			return ServerError, fmt.Sprintf("%s: stream error %s", q.path, data)
		}
		chunks++
		if q.hangUpAt > 0 && chunks >= q.hangUpAt {
			hangUp()
			return Disconnected, ""
		}
	}
	return ServerError, fmt.Sprintf("%s: stream ended after %d chunks without [DONE] (%v)", q.path, chunks, sc.Err())
}

// short abbreviates a request body for a failure message.
func short(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

// head reads the start of a body for a failure message.
func head(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 300))
	return strings.TrimSpace(string(b))
}

// since is the time from t to now in milliseconds.
func since(t time.Time) float64 { return float64(time.Since(t)) / float64(time.Millisecond) }
