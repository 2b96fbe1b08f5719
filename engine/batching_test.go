package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
	"sieve/tokenizer"
)

// storyPrompts are 16 different openings for stories260K.
var storyPrompts = []string{
	"Once upon a time", "Lily and Tom went to the park", "One day, a little dog", "The sun was hot",
	"Tim had a red ball.", "There was a big tree", "Mom said", "Sue liked to sing",
	"A bird flew", "The boy was sad because", "Once there was a kind old man who lived in a small house",
	"Ben", "They played all day", "The cat and the mouse were friends", "It was a rainy day and", "Anna found a box",
}

// runStaggered submits reqs one after the other, each once the previous one
// has produced its first event, so prefills overlap decodes of the earlier
// requests, and returns what each stream delivered.
func runStaggered(t *testing.T, e *Engine, reqs []Request) []result {
	t.Helper()
	out := make([]result, len(reqs))
	var wg sync.WaitGroup
	prev := make(chan struct{})
	close(prev)
	for i, r := range reqs {
		started := make(chan struct{})
		wg.Add(1)
		go func(wait <-chan struct{}) {
			defer wg.Done()
			<-wait
			ch, err := e.Submit(context.Background(), r)
			if err != nil {
				t.Error(err)
				close(started)
				return
			}
			first := true
			relay := make(chan Event, eventBuffer)
			go func() {
				for ev := range ch {
					if first {
						close(started)
						first = false
					}
					relay <- ev
				}
				if first {
					close(started)
				}
				close(relay)
			}()
			out[i] = collect(t, relay)
		}(prev)
		prev = started
	}
	wg.Wait()
	return out
}

// runAlone runs each request by itself.
func runAlone(t *testing.T, e *Engine, reqs []Request) []result {
	t.Helper()
	var out []result
	for _, r := range reqs {
		out = append(out, collect(t, submit(t, e, context.Background(), r)))
	}
	return out
}

func TestConcurrentGreedyMatchesLone(t *testing.T) {
	m, tok := stories(t)
	var reqs []Request
	for i, p := range storyPrompts {
		reqs = append(reqs, Request{ID: fmt.Sprint(i), Prompt: tok.Encode(p, tokenizer.EncodeOptions{AddBOS: true}), MaxTokens: 32})
	}
	cfg := Config{MaxBatchTokens: 64, MaxSeqs: 16, PrefillChunk: 8}
	alone := runAlone(t, newEngine(t, m, tok, cfg), reqs)
	e := newEngine(t, m, tok, cfg)
	together := runStaggered(t, e, reqs)
	for i := range reqs {
		if !slices.Equal(together[i].tokens, alone[i].tokens) || together[i].text != alone[i].text {
			t.Errorf("request %d: concurrent %q, alone %q", i, together[i].text, alone[i].text)
		}
		if together[i].last.Finish != alone[i].last.Finish || len(alone[i].tokens) == 0 {
			t.Errorf("request %d: finish %q vs %q after %d tokens", i, together[i].last.Finish, alone[i].last.Finish, len(alone[i].tokens))
		}
	}
	if !strings.Contains(alone[0].text, "Lily") {
		t.Errorf("greedy story does not look like stories260K's: %q", alone[0].text)
	}
	if st := e.Stats(); st.GenerationTokens == 0 || st.Steps == 0 || st.PromptTokens == 0 {
		t.Errorf("counters not kept: %+v", st)
	}
}

// invarianceRequests returns 16 requests with staggered prompt lengths:
// half greedy, half sampled with their own seeds.
func invarianceRequests(vocab int) []Request {
	r := rand.New(rand.NewPCG(2024, 1))
	var reqs []Request
	for i := range 16 {
		req := Request{ID: fmt.Sprint(i), Prompt: randomPrompt(r, 1+(i*11)%40, vocab), MaxTokens: 8 + i%5, IgnoreEOS: true, ReturnLogits: true}
		if i%2 == 1 {
			req.Params = SamplingParams{Temperature: 0.9, TopP: 0.95, Seed: uint64(i)}
		}
		reqs = append(reqs, req)
	}
	return reqs
}

// denseLogits runs one request alone through llama.DenseCache and returns
// the logits of every generated token, feeding the given tokens.
func denseLogits(t *testing.T, m *model.Model, prompt, tokens []int32) [][]float32 {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	r := llama.NewRunner(m, pool, 64)
	d := llama.NewDenseCache(m.Config, pool, 1, len(prompt)+len(tokens))
	var out [][]float32
	i := 0
	err := r.Generate(context.Background(), d, prompt, len(tokens), func(l []float32) int32 {
		out = append(out, slices.Clone(l))
		i++
		return tokens[i-1]
	}, func(int32) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBatchInvariantLogits(t *testing.T) {
	models := []struct {
		name string
		load func(t *testing.T) (*model.Model, tokenizer.Tokenizer)
	}{
		{"tiny", func(t *testing.T) (*model.Model, tokenizer.Tokenizer) { return tinyModel(t, tinyConfig, 99), nil }},
		{"stories260K", func(t *testing.T) (*model.Model, tokenizer.Tokenizer) { return stories(t) }},
	}
	for _, mc := range models {
		for _, kv := range []string{"f32", "f16"} {
			t.Run(mc.name+"/"+kv, func(t *testing.T) {
				m, tok := mc.load(t)
				reqs := invarianceRequests(m.Config.VocabSize)
				cfg := Config{MaxBatchTokens: 64, MaxSeqs: 16, PrefillChunk: 16, KVDType: kv}
				alone := runAlone(t, newEngine(t, m, tok, cfg), reqs)
				together := runStaggered(t, newEngine(t, m, tok, cfg), reqs)
				for i := range reqs {
					a, b := alone[i], together[i]
					if len(a.logits) != reqs[i].MaxTokens || len(b.logits) != len(a.logits) {
						t.Fatalf("request %d: %d and %d logits rows, want %d", i, len(a.logits), len(b.logits), reqs[i].MaxTokens)
					}
					for j := range a.logits {
						if k := firstBitDiff(a.logits[j], b.logits[j]); k >= 0 {
							t.Fatalf("request %d token %d logit %d: alone %v, batched %v", i, j, k, a.logits[j][k], b.logits[j][k])
						}
					}
					if kv == "f32" {
						want := denseLogits(t, m, reqs[i].Prompt, a.tokens)
						for j := range want {
							if k := firstBitDiff(a.logits[j], want[j]); k >= 0 {
								t.Fatalf("request %d token %d logit %d: engine %v, dense cache %v", i, j, k, a.logits[j][k], want[j][k])
							}
						}
					}
				}
			})
		}
	}
}

// firstBitDiff returns the first index where a and b differ in bits, or -1.
func firstBitDiff(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}
