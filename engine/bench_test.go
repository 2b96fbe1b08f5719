package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// BenchmarkGenerate measures generation throughput on stories260K with
// several concurrent requests; it reports generated tokens per second.
func BenchmarkGenerate(b *testing.B) {
	m, _ := stories(b)
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("seqs%d", n), func(b *testing.B) {
			e := newEngine(b, m, nil, Config{})
			r := rand.New(rand.NewPCG(1, 1))
			tokens := 0
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range n {
					ch := submit(b, e, context.Background(), Request{Prompt: randomPrompt(r, 32, m.Config.VocabSize), MaxTokens: 128, IgnoreEOS: true})
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range ch {
						}
					}()
					tokens += 128
				}
				wg.Wait()
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
