package server

import (
	"context"
	"strings"
	"sync"
	"time"

	"sieve/engine"
	"sieve/tokenizer"
)

// byteTok is a tokenizer for tests: token i < 256 is byte i, then BOS
// "<s>" and EOS "</s>", then "<|eot_id|>" and the Llama 3 header tokens.
type byteTok struct{}

var byteTokSpecials = []string{"<s>", "</s>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}

const (
	byteBOS = 256
	byteEOS = 257
)

func (byteTok) Encode(text string, opts tokenizer.EncodeOptions) []int32 {
	var ids []int32
	if opts.AddBOS {
		ids = append(ids, byteBOS)
	}
outer:
	for i := 0; i < len(text); {
		if opts.ParseSpecial {
			for j, s := range byteTokSpecials {
				if strings.HasPrefix(text[i:], s) {
					ids = append(ids, int32(256+j))
					i += len(s)
					continue outer
				}
			}
		}
		ids = append(ids, int32(text[i]))
		i++
	}
	if opts.AddEOS {
		ids = append(ids, byteEOS)
	}
	return ids
}

func (byteTok) Piece(prev, id int32) []byte {
	if id < 256 {
		return []byte{byte(id)}
	}
	return nil
}

func (t byteTok) Decode(ids []int32) string {
	var b []byte
	for _, id := range ids {
		b = append(b, t.Piece(-1, id)...)
	}
	return string(b)
}

// spell shows ids with the special tokens spelled out, for assertions.
func spell(ids []int32) string {
	var b strings.Builder
	for _, id := range ids {
		if id < 256 {
			b.WriteByte(byte(id))
		} else {
			b.WriteString(byteTokSpecials[id-256])
		}
	}
	return b.String()
}

// TokenText names the special tokens, as the real tokenizers do.
func (byteTok) TokenText(id int32) string {
	if id >= 256 && int(id) < 256+len(byteTokSpecials) {
		return byteTokSpecials[id-256]
	}
	return ""
}

func (byteTok) VocabSize() int          { return 256 + len(byteTokSpecials) }
func (byteTok) BOS() int32              { return byteBOS }
func (byteTok) EOS() int32              { return byteEOS }
func (byteTok) StopTokens() []int32     { return []int32{byteEOS} }
func (byteTok) IsControl(id int32) bool { return id >= 256 }
func (byteTok) TokenID(piece string) (int32, bool) {
	for j, s := range byteTokSpecials {
		if s == piece {
			return int32(256 + j), true
		}
	}
	return 0, false
}

// fakeGen is a Generator that replays scripted events.
type fakeGen struct {
	mu       sync.Mutex
	reqs     []engine.Request
	err      error                                 // returned by Submit when set
	panicMsg string                                // Submit panics when set
	script   func(r engine.Request) []engine.Event // events to send; default: "Hello world"
	hold     bool                                  // after the script, wait for ctx to end
	pace     time.Duration                         // pause before each event
	stats    engine.Stats
	ended    chan error // receives ctx.Err() (or nil) when a request's stream ends
	abort    chan struct{}
	once     sync.Once
}

func newFakeGen() *fakeGen { return &fakeGen{ended: make(chan error, 16), abort: make(chan struct{})} }

// Close is the engine's: once ctx ends, it cancels the held requests,
// which end with FinishCancelled and the usage they had.
func (g *fakeGen) Close(ctx context.Context) error {
	<-ctx.Done()
	g.once.Do(func() { close(g.abort) })
	return ctx.Err()
}

// helloEvents is the default script: "Hello", " world", stop.
func helloEvents(r engine.Request) []engine.Event {
	n := len(r.Prompt)
	return []engine.Event{
		{Tokens: []int32{'H'}, Text: "Hello", Usage: engine.Usage{PromptTokens: n, CompletionTokens: 1}},
		{Tokens: []int32{'w'}, Text: " world", Usage: engine.Usage{PromptTokens: n, CompletionTokens: 2}},
		{Tokens: []int32{byteEOS}, Finish: engine.FinishStop, Usage: engine.Usage{PromptTokens: n, CompletionTokens: 3}},
	}
}

func (g *fakeGen) Submit(ctx context.Context, r engine.Request) (<-chan engine.Event, error) {
	g.mu.Lock()
	g.reqs = append(g.reqs, r)
	err, script, hold, msg, pace := g.err, g.script, g.hold, g.panicMsg, g.pace
	g.mu.Unlock()
	if msg != "" {
		panic(msg)
	}
	if err != nil {
		return nil, err
	}
	if script == nil {
		script = helloEvents
	}
	events := script(r)
	ch := make(chan engine.Event)
	go func() {
		defer close(ch)
		for _, ev := range events {
			time.Sleep(pace)
			select {
			case ch <- ev:
			case <-ctx.Done():
				ch <- engine.Event{Finish: engine.FinishCancelled}
				g.ended <- ctx.Err()
				return
			}
		}
		if hold {
			select {
			case <-ctx.Done():
				ch <- engine.Event{Finish: engine.FinishCancelled}
				g.ended <- ctx.Err()
			case <-g.abort:
				var u engine.Usage
				if len(events) > 0 {
					u = events[len(events)-1].Usage
				}
				ch <- engine.Event{Finish: engine.FinishCancelled, Usage: u}
				g.ended <- nil
			}
			return
		}
		g.ended <- nil
	}()
	return ch, nil
}

func (g *fakeGen) Stats() engine.Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// last returns the last request submitted.
func (g *fakeGen) last() engine.Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) == 0 {
		return engine.Request{}
	}
	return g.reqs[len(g.reqs)-1]
}

func (g *fakeGen) set(f func(g *fakeGen)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}
