package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Target is the endpoint a benchmark drives and the fields every request
// carries.
type Target struct {
	// URL is the server's base URL, such as http://127.0.0.1:8000.
	URL string
	// Label names the target in reports (default: URL and KV policy).
	Label string
	// Chat sends /v1/chat/completions requests; otherwise /v1/completions.
	Chat bool
	// Model is the model field of requests; empty asks GET /v1/models.
	Model  string
	APIKey string
	Stream bool
	// KVPolicy and KVBudget, when set, go out as the kv_policy and
	// kv_budget request fields (Sieve's per-request KV sparsity).
	KVPolicy string
	KVBudget float64
}

// Measurement is what one request took.
type Measurement struct {
	Err          string          // empty when it succeeded
	TTFT         time.Duration   // to the first content (the whole latency when not streaming)
	Latency      time.Duration   // to the end of the response
	ITL          []time.Duration // gaps between content chunks of a stream
	PromptTokens int             // from the usage the server reported (0 if none)
	OutputTokens int             // from the usage, else the content chunks counted
	// CachedTokens is how many prompt tokens the server served from its
	// prefix cache, from usage.prompt_tokens_details.cached_tokens (or
	// llama.cpp's timings.cache_n); CachedKnown says whether it said.
	CachedTokens int
	CachedKnown  bool
	// Text is the generated text, which a conversation sends back as
	// history.
	Text string
}

// OK reports whether the request succeeded.
func (m Measurement) OK() bool { return m.Err == "" }

// TPOT is the time per output token after the first, or 0 with fewer than
// two tokens.
func (m Measurement) TPOT() time.Duration {
	if m.OutputTokens < 2 {
		return 0
	}
	return (m.Latency - m.TTFT) / time.Duration(m.OutputTokens-1)
}

// Client sends benchmark requests to one target.
type Client struct {
	t    Target
	http *http.Client
	sent atomic.Uint64 // requests sent, numbering their Idempotency-Key
}

// NewClient returns a client for t; hc nil means a client with enough idle
// connections for a heavy load.
func NewClient(t Target, hc *http.Client) *Client {
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 1024
		hc = &http.Client{Transport: tr}
	}
	t.URL = strings.TrimRight(t.URL, "/")
	return &Client{t: t, http: hc}
}

// Target returns the client's target.
func (c *Client) Target() Target { return c.t }

// ResolveModel asks the server for its model when the target names none.
func (c *Client) ResolveModel(ctx context.Context) error {
	if c.t.Model != "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.t.URL+"/v1/models", nil)
	if err != nil {
		return fmt.Errorf("serve bench: %w", err)
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("serve bench: list models: %w", err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("serve bench: GET /v1/models: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Data) == 0 {
		return fmt.Errorf("serve bench: GET /v1/models named no model (%v); pass --model", err)
	}
	c.t.Model = list.Data[0].ID
	return nil
}

func (c *Client) auth(req *http.Request) {
	if c.t.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.t.APIKey)
	}
}

// body builds the JSON request for p.
func (c *Client) body(p Prompt) ([]byte, error) {
	b := map[string]any{
		"model":       c.t.Model,
		"max_tokens":  p.OutputLen,
		"temperature": 0,
		"ignore_eos":  true,
		"stream":      c.t.Stream,
	}
	if c.t.Stream {
		b["stream_options"] = map[string]bool{"include_usage": true}
	}
	if c.t.KVPolicy != "" {
		b["kv_policy"] = c.t.KVPolicy
	}
	if c.t.KVBudget != 0 {
		b["kv_budget"] = c.t.KVBudget
	}
	switch {
	case c.t.Chat && p.Messages != nil:
		b["messages"] = p.Messages
	case c.t.Chat:
		b["messages"] = []Message{{Role: "user", Content: p.Text}}
	case p.Tokens != nil:
		b["prompt"] = p.Tokens
	default:
		b["prompt"] = p.Text
	}
	return json.Marshal(b)
}

// Send runs one request and measures it. Failures are reported in the
// measurement, not as an error.
func (c *Client) Send(ctx context.Context, p Prompt) Measurement {
	var m Measurement
	body, err := c.body(p)
	if err != nil {
		m.Err = err.Error()
		return m
	}
	path := "/v1/completions"
	if c.t.Chat {
		path = "/v1/chat/completions"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.t.URL+path, bytes.NewReader(body))
	if err != nil {
		m.Err = err.Error()
		return m
	}
	req.Header.Set("Content-Type", "application/json")
	// The key lets the transport resend a request that met a keep-alive
	// connection the server had just closed (llama.cpp's server closes
	// idle ones after 5 s); the server never saw such a request.
	req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", c.sent.Add(1)))
	c.auth(req)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		m.Err = err.Error()
		return m
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		m.Err = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, errorMessage(resp.Body))
		return m
	}
	if c.t.Stream {
		err = readStream(resp.Body, start, &m)
	} else {
		err = readWhole(resp.Body, &m)
		m.TTFT = time.Since(start)
	}
	m.Latency = time.Since(start)
	if err != nil {
		m.Err = err.Error()
	}
	return m
}

// chunk is the part of a response or stream chunk the benchmark reads.
type chunk struct {
	Choices []struct {
		Text  string `json:"text"`
		Delta *struct {
			Content string `json:"content"`
		} `json:"delta"`
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		PromptTokensDetails *struct {
			CachedTokens *int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
	// Timings is llama.cpp's server's own report: cache_n prompt tokens
	// taken from its cache, prompt_n computed.
	Timings *struct {
		CacheN  *int `json:"cache_n"`
		PromptN int  `json:"prompt_n"`
	} `json:"timings"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// content is the text the chunk carries.
func (c *chunk) content() string {
	var s strings.Builder
	for _, ch := range c.Choices {
		s.WriteString(ch.Text)
		if ch.Delta != nil {
			s.WriteString(ch.Delta.Content)
		}
		if ch.Message != nil {
			s.WriteString(ch.Message.Content)
		}
	}
	return s.String()
}

// account copies the usage and cache figures a chunk carries into m.
func (c *chunk) account(m *Measurement) {
	if u := c.Usage; u != nil {
		m.PromptTokens, m.OutputTokens = u.PromptTokens, u.CompletionTokens
		if d := u.PromptTokensDetails; d != nil && d.CachedTokens != nil {
			m.CachedTokens, m.CachedKnown = *d.CachedTokens, true
		}
	}
	if t := c.Timings; t != nil && t.CacheN != nil && !m.CachedKnown {
		m.CachedTokens, m.CachedKnown = *t.CacheN, true
		if m.PromptTokens == 0 {
			m.PromptTokens = *t.CacheN + t.PromptN
		}
	}
}

// errIncomplete marks a stream that ended without "data: [DONE]".
var errIncomplete = errors.New("stream ended before [DONE]")

// readStream reads server-sent events to "data: [DONE]", timing the
// chunks that carry content.
func readStream(r io.Reader, start time.Time, m *Measurement) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var last time.Time
	chunks := 0
	usage := false
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			if !usage {
				m.OutputTokens = chunks
			}
			return nil
		}
		now := time.Now()
		var c chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return fmt.Errorf("bad stream chunk: %w", err)
		}
		if c.Error != nil {
			return fmt.Errorf("stream error: %s", c.Error.Message)
		}
		usage = usage || c.Usage != nil
		c.account(m)
		text := c.content()
		if text == "" {
			continue
		}
		m.Text += text
		chunks++
		if last.IsZero() {
			m.TTFT = now.Sub(start)
		} else {
			m.ITL = append(m.ITL, now.Sub(last))
		}
		last = now
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stream: %w", err)
	}
	return errIncomplete
}

// readWhole reads a non-streamed response.
func readWhole(r io.Reader, m *Measurement) error {
	var c chunk
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return fmt.Errorf("bad response: %w", err)
	}
	if c.Usage == nil {
		return errors.New("response has no usage")
	}
	c.account(m)
	m.Text = c.content()
	return nil
}

// errorMessage extracts an OpenAI-style error message from a body.
func errorMessage(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 4096))
	var c chunk
	if json.Unmarshal(b, &c) == nil && c.Error != nil {
		return c.Error.Message
	}
	return strings.TrimSpace(string(b))
}
