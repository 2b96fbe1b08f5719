package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model"
	"sieve/model/load"
)

// storiesGGUF loads stories260K.gguf, whose context of 2048 tokens holds a
// 1,000-token system prompt.
func storiesGGUF(b *testing.B) *model.Model {
	m, err := load.Open(testmodels.Path(b, "stories260K.gguf"), "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkPrefixCacheSharedPrompt runs 16 concurrent requests behind one
// shared 1,000-token system prompt, with prefix caching on and off, and
// reports the prompt tokens the engine actually prefilled per round.
func BenchmarkPrefixCacheSharedPrompt(b *testing.B) {
	m := storiesGGUF(b)
	for _, off := range []bool{false, true} {
		b.Run(fmt.Sprintf("caching=%v", !off), func(b *testing.B) {
			var prefill, hits, prompt int64
			for range b.N {
				e := newEngine(b, m, nil, Config{DisablePrefixCaching: off})
				r := rand.New(rand.NewPCG(1, 1))
				system := randomPrompt(r, 1000, m.Config.VocabSize)
				var wg sync.WaitGroup
				for range 16 {
					p := append(slices.Clone(system), randomPrompt(r, 50, m.Config.VocabSize)[1:]...)
					ch := submit(b, e, context.Background(), Request{Prompt: p, MaxTokens: 16, IgnoreEOS: true})
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range ch {
						}
					}()
				}
				wg.Wait()
				st := e.Stats()
				prefill, hits, prompt = prefill+st.PrefillTokens, hits+st.PrefixCacheHits, prompt+st.PromptTokens
			}
			b.ReportMetric(float64(prefill)/float64(b.N), "prefilled/op")
			b.ReportMetric(float64(hits)/float64(b.N), "cached/op")
			b.ReportMetric(float64(prompt)/float64(b.N), "prompt/op")
		})
	}
}

// BenchmarkPrefixCacheConversation runs a 5-turn conversation, each turn
// the whole history plus 150 new tokens and 32 answer tokens, and reports
// each turn's prefilled tokens.
func BenchmarkPrefixCacheConversation(b *testing.B) {
	m := storiesGGUF(b)
	for _, off := range []bool{false, true} {
		b.Run(fmt.Sprintf("caching=%v", !off), func(b *testing.B) {
			perTurn := make([]int64, 5)
			for range b.N {
				e := newEngine(b, m, nil, Config{DisablePrefixCaching: off})
				r := rand.New(rand.NewPCG(2, 2))
				var history []int32
				for turn := range perTurn {
					history = append(history, randomPrompt(r, 151, m.Config.VocabSize)[1:]...)
					history[0] = 1
					before := e.Stats().PrefillTokens
					res := collect(b, submit(b, e, context.Background(), Request{Prompt: slices.Clone(history), MaxTokens: 32, IgnoreEOS: true}))
					perTurn[turn] += e.Stats().PrefillTokens - before
					history = append(history, res.tokens...)
				}
			}
			for turn, n := range perTurn {
				b.ReportMetric(float64(n)/float64(b.N), fmt.Sprintf("turn%d-prefilled", turn+1))
			}
		})
	}
}
