package engine

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"sieve/llama"
	"sieve/tokenizer"
)

// stopTok is a pieceTok with stop tokens.
type stopTok struct {
	pieceTok
	stop []int32
}

func (s stopTok) StopTokens() []int32 { return s.stop }

// letters returns a vocabulary whose token i decodes to a short distinct string.
func letters(n int) []string {
	p := make([]string, n)
	for i := range p {
		p[i] = string(rune('a'+i%26)) + string(rune('A'+i/26%26))
	}
	return p
}

func TestStopTokens(t *testing.T) {
	m := tinyModel(t, tinyConfig, 12)
	prompt := []int32{1, 7, 9, 30}
	free := collect(t, submit(t, newEngine(t, m, nil, Config{}), context.Background(), Request{Prompt: prompt, MaxTokens: 30}))
	stopAt := 4
	stop := free.tokens[stopAt]
	first := slices.Index(free.tokens, stop)
	tok := stopTok{pieceTok{letters(tinyConfig.VocabSize)}, []int32{stop}}
	e := newEngine(t, m, tok, Config{})
	res := collect(t, submit(t, e, context.Background(), Request{Prompt: prompt, MaxTokens: 30}))
	if res.last.Finish != FinishStop || !slices.Equal(res.tokens, free.tokens[:first+1]) {
		t.Fatalf("stop token %d: %q with %v, want stop after %v", stop, res.last.Finish, res.tokens, free.tokens[:first+1])
	}
	if want := tok.Decode(free.tokens[:first]); res.text != want {
		t.Fatalf("text %q, want %q (without the stop token)", res.text, want)
	}
	res = collect(t, submit(t, e, context.Background(), Request{Prompt: prompt, MaxTokens: 30, IgnoreEOS: true}))
	if res.last.Finish != FinishLength || !slices.Equal(res.tokens, free.tokens) {
		t.Fatalf("IgnoreEOS: %q with %v, want %v", res.last.Finish, res.tokens, free.tokens)
	}
}

func TestStopStrings(t *testing.T) {
	m, tok := stories(t)
	e := newEngine(t, m, tok, Config{})
	prompt := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true})
	free := collect(t, submit(t, e, context.Background(), Request{Prompt: prompt, MaxTokens: 40}))
	i := strings.Index(free.text, "Lily")
	if i < 0 {
		t.Fatalf("greedy text has no Lily: %q", free.text)
	}
	res := collect(t, submit(t, e, context.Background(), Request{Prompt: prompt, MaxTokens: 40, Stop: []string{"park", "Lily"}}))
	if res.last.Finish != FinishStop || res.text != free.text[:i] {
		t.Fatalf("stop string: %q %q, want %q", res.last.Finish, res.text, free.text[:i])
	}
}

func TestLogprobs(t *testing.T) {
	m, tok := stories(t)
	e := newEngine(t, m, tok, Config{})
	prompt := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true})
	const top = 5
	res := collect(t, submit(t, e, context.Background(), Request{
		Prompt: prompt, MaxTokens: 12, Logprobs: true, TopLogprobs: top, ReturnLogits: true,
		Params: SamplingParams{RepetitionPenalty: 1.3}, // penalties must not change the reported logprobs
	}))
	if len(res.logprobs) != len(res.tokens) || len(res.logits) != len(res.tokens) {
		t.Fatalf("%d logprobs and %d logits for %d tokens", len(res.logprobs), len(res.logits), len(res.tokens))
	}
	prev := prompt[len(prompt)-1]
	for i, lp := range res.logprobs {
		logits := res.logits[i]
		var sum float64
		for _, v := range logits {
			sum += math.Exp(float64(v))
		}
		ref := func(id int32) float64 { return float64(logits[id]) - math.Log(sum) }
		if lp.Token != res.tokens[i] || math.Abs(float64(lp.Logprob)-ref(lp.Token)) > 1e-4 {
			t.Fatalf("token %d: logprob %+v, want token %d logprob %v", i, lp.TokenLogprob, res.tokens[i], ref(lp.Token))
		}
		if lp.Text != string(tok.Piece(prev, lp.Token)) {
			t.Errorf("token %d: text %q", i, lp.Text)
		}
		if len(lp.Top) != top || lp.Top[0].Token != Argmax(logits) {
			t.Fatalf("token %d: top %+v, argmax %d", i, lp.Top, Argmax(logits))
		}
		for j, alt := range lp.Top {
			if math.Abs(float64(alt.Logprob)-ref(alt.Token)) > 1e-4 || (j > 0 && alt.Logprob > lp.Top[j-1].Logprob) {
				t.Fatalf("token %d: top %+v not the sorted log-softmax", i, lp.Top)
			}
		}
		prev = lp.Token
	}
}

func TestSlowReaderDoesNotBlock(t *testing.T) {
	m := tinyModel(t, tinyConfig, 13)
	e := newEngine(t, m, nil, Config{})
	req := Request{Prompt: []int32{1, 4, 4, 8}, MaxTokens: 100, IgnoreEOS: true}
	slow := submit(t, e, context.Background(), req)
	// Another request completes while nobody reads the first.
	if res := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 2}, MaxTokens: 20})); len(res.tokens) != 20 {
		t.Fatalf("second request: %d tokens", len(res.tokens))
	}
	deadline := time.Now().Add(20 * time.Second)
	for e.Stats().Running > 0 {
		if time.Now().After(deadline) {
			t.Fatal("unread request never finished")
		}
		time.Sleep(time.Millisecond)
	}
	res := collect(t, slow)
	if len(res.tokens) != 100 || res.events > eventBuffer {
		t.Fatalf("slow reader got %d tokens in %d events", len(res.tokens), res.events)
	}
	alone := collect(t, submit(t, e, context.Background(), req))
	if !slices.Equal(res.tokens, alone.tokens) {
		t.Fatalf("coalesced tokens %v differ from a read-along run's %v", res.tokens, alone.tokens)
	}
}

func TestCancelRunning(t *testing.T) {
	m := tinyModel(t, tinyConfig, 14)
	e := newEngine(t, m, nil, Config{})
	e.beforeForward = func(*llama.Batch) { time.Sleep(100 * time.Microsecond) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := submit(t, e, ctx, Request{Prompt: []int32{1, 3}, MaxTokens: 400, IgnoreEOS: true})
	n := 0
	var last Event
	for ev := range ch {
		n += len(ev.Tokens)
		if n >= 3 {
			cancel()
		}
		last = ev
	}
	if last.Finish != FinishCancelled || n >= 400 {
		t.Fatalf("cancelled request: %q after %d tokens", last.Finish, n)
	}
	waitIdle(t, e)
}

func TestMaxTokensZeroFillsContext(t *testing.T) {
	c := tinyConfig
	c.ContextLen = 40
	e := newEngine(t, tinyModel(t, c, 15), nil, Config{})
	res := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 2, 3, 4, 5}}))
	if res.last.Finish != FinishLength || len(res.tokens) != 35 {
		t.Fatalf("max tokens 0: %q after %d tokens, want 35", res.last.Finish, len(res.tokens))
	}
}
