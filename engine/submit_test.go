package engine

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"

	"sieve/llama"
)

func TestSubmitRejects(t *testing.T) {
	c := wideConfig
	c.ContextLen = 4096
	m := tinyModel(t, c, 1)
	// 1 MiB of F32 holds 63 blocks of 16: 15 per layer, 240 tokens.
	e := newEngine(t, m, nil, Config{KVCacheMiB: 1, KVDType: "f32"})
	long := make([]int32, 4000)
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"empty prompt", Request{}, ErrBadRequest},
		{"token below range", Request{Prompt: []int32{1, -1}}, ErrBadRequest},
		{"token above range", Request{Prompt: []int32{1, int32(c.VocabSize)}}, ErrBadRequest},
		{"negative max tokens", Request{Prompt: []int32{1}, MaxTokens: -1}, ErrBadRequest},
		{"too many top logprobs", Request{Prompt: []int32{1}, Logprobs: true, TopLogprobs: MaxTopLogprobs + 1}, ErrBadRequest},
		{"negative temperature", Request{Prompt: []int32{1}, Params: SamplingParams{Temperature: -1}}, ErrBadRequest},
		{"top p above 1", Request{Prompt: []int32{1}, Params: SamplingParams{TopP: 1.5}}, ErrBadRequest},
		{"stop strings without tokenizer", Request{Prompt: []int32{1}, Stop: []string{"x"}}, ErrBadRequest},
		{"past the context", Request{Prompt: long, MaxTokens: 97}, ErrTooLong},
		{"max tokens at the int limit", Request{Prompt: long, MaxTokens: math.MaxInt}, ErrTooLong},
		{"tiny h2o fraction", Request{Prompt: long, MaxTokens: 90, KVPolicy: "h2o", KVBudget: 0.00001}, ErrBadRequest},
		{"prompt fills the context", Request{Prompt: make([]int32, 4096)}, ErrTooLong},
		{"beyond the pool", Request{Prompt: []int32{1}, MaxTokens: 240}, ErrTooLong},
		{"rest of the context beyond the pool", Request{Prompt: []int32{1}}, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.Submit(context.Background(), tt.req); !errors.Is(err, tt.want) {
				t.Fatalf("Submit: %v, want %v", err, tt.want)
			}
		})
	}
	// Just fits: 240 tokens take 15 blocks per layer.
	res := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1}, MaxTokens: 239, IgnoreEOS: true}))
	if res.last.Finish != FinishLength || len(res.tokens) != 239 {
		t.Fatalf("request filling the pool: %q after %d tokens", res.last.Finish, len(res.tokens))
	}
}

func TestQueueFull(t *testing.T) {
	m := tinyModel(t, tinyConfig, 2)
	e := newEngine(t, m, nil, Config{MaxSeqs: 1, MaxWaiting: 2, MaxBatchTokens: 16})
	entered, release := make(chan struct{}), make(chan struct{})
	first := true
	e.beforeForward = func(*llama.Batch) { // set before any Submit
		if first {
			first = false
			close(entered)
			<-release
		}
	}
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) }) // never leave the scheduler stuck
	req := Request{Prompt: []int32{1, 2}, MaxTokens: 2}
	chans := []<-chan Event{submit(t, e, context.Background(), req)}
	<-entered // the first request runs; the scheduler is inside its step
	chans = append(chans, submit(t, e, context.Background(), req), submit(t, e, context.Background(), req))
	if st := e.Stats(); st.Waiting != 2 || st.Running != 1 {
		t.Errorf("stats with a full queue: %+v", st)
	}
	if _, err := e.Submit(context.Background(), req); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Submit over MaxWaiting: %v, want ErrQueueFull", err)
	}
	releaseOnce.Do(func() { close(release) })
	for _, ch := range chans {
		if res := collect(t, ch); res.last.Finish != FinishLength {
			t.Errorf("queued request: %q", res.last.Finish)
		}
	}
	waitIdle(t, e)
	// The queue has room again.
	collect(t, submit(t, e, context.Background(), req))
}

func TestNewRejectsBadConfig(t *testing.T) {
	m := tinyModel(t, tinyConfig, 3)
	for _, cfg := range []Config{
		{KVDType: "q8"},
		{MaxSeqs: 64, MaxBatchTokens: 32},
		{MaxBatchTokens: 64, MaxSeqs: 16, PrefillChunk: 50},
		{BlockSize: -1},
	} {
		if e, err := New(m, nil, cfg, nil); err == nil {
			e.Close(context.Background())
			t.Errorf("New accepted %+v", cfg)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	m := tinyModel(t, tinyConfig, 4)
	e := newEngine(t, m, nil, Config{})
	got := e.Config()
	if got.MaxBatchTokens != 512 || got.MaxSeqs != 32 || got.MaxWaiting != 256 || got.BlockSize != 16 ||
		got.KVDType != "f16" || got.PrefillChunk != 480 || got.KVCacheMiB <= 0 {
		t.Fatalf("defaults: %+v", got)
	}
	// The default pool is capped at MaxSeqs full contexts.
	if st := e.Stats(); st.KVBlocksTotal > 32*tinyConfig.Layers*tinyConfig.ContextLen/16 {
		t.Fatalf("default pool of %d blocks exceeds 32 full contexts", st.KVBlocksTotal)
	}
}
