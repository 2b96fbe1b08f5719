package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestContentSinksSurviveEviction(t *testing.T) {
	m := tinyModel(t, tinyConfig, 41)
	const sink = 7 // the content-aware sink token
	r := rand.New(rand.NewPCG(4, 1))
	noSink := func(n int) []int32 {
		s := randomPrompt(r, n, m.Config.VocabSize)
		for i, v := range s {
			if v == sink {
				s[i] = sink + 1
			}
		}
		return s
	}
	prompt := noSink(40)
	prompt[10], prompt[25] = sink, sink
	forced := noSink(30)
	for _, tc := range []struct {
		name    string
		sinks   []int32
		protect bool
	}{
		{"protected", []int32{sink}, true},
		{"not protected", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, m, nil, sparseConfig(t, "f32"))
			kept, evicted := 0, 0
			e.afterStep = func() {
				for _, q := range e.sched.running {
					if q.cacheSeq < 0 {
						continue
					}
					for l := range m.Config.Layers {
						pos := e.cache.Positions(q.cacheSeq, l, nil)
						if len(pos) > 12+e.cfg.BlockSize {
							t.Fatalf("layer %d holds %d slots, over budget 12 + a block", l, len(pos))
						}
						for _, p := range []int32{10, 25} {
							switch {
							case int(p) >= q.computed:
							case slices.Contains(pos, p):
								kept++
							default:
								evicted++
							}
						}
					}
				}
			}
			res := collect(t, submit(t, e, context.Background(), Request{Prompt: prompt, Forced: forced,
				KVPolicy: "window", KVBudget: 12, KVSinkTokens: tc.sinks}))
			if res.last.Usage.KVTokensEvicted == 0 {
				t.Fatal("nothing evicted")
			}
			if tc.protect && (evicted != 0 || kept == 0) {
				t.Fatalf("content sinks evicted %d times, kept %d", evicted, kept)
			}
			if !tc.protect && evicted == 0 {
				t.Fatal("without protection the window policy kept positions 10 and 25")
			}
		})
	}
}
