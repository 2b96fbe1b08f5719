package engine

import (
	"context"
	"slices"
	"testing"

	"sieve/llama"
)

// plantedAttn plants an attention pattern in the real attention pass: every
// key and query is zero, except that the keys of the needle positions in
// KV head 1 and the queries of query head 2 (the first of KV head 1's
// group) at the observation positions point the same way. The observation
// queries of that one head put nearly all their weight on the needle;
// every other head attends uniformly.
type plantedAttn struct {
	e              *Engine
	needle         [2]int32 // positions [from, to)
	obsFrom, obsTo int32
}

func (a *plantedAttn) Attend(layer int, b *llama.Batch, q, k, v, out []float32) {
	c := a.e.m.Config
	kvd, qd, hd := c.KVDim(), c.Heads*c.HeadDim, c.HeadDim
	for i := range b.Len() {
		clear(k[i*kvd : (i+1)*kvd])
		clear(q[i*qd : (i+1)*qd])
		if p := b.Pos[i]; p >= a.needle[0] && p < a.needle[1] {
			k[i*kvd+1*hd] = 1
		}
		if p := b.Pos[i]; p >= a.obsFrom && p < a.obsTo {
			q[i*qd+2*hd] = 40 // a logit of 10 at HeadDim 16
		}
	}
	a.e.cache.Attend(layer, b, q, k, v, out)
}

// TestSnapKVKeepsPlantedNeedle checks snapkv's selection against a planted
// attention pattern: nothing is evicted while the prompt is prefilled in
// chunks, the prompt is compressed once, after its last chunk, to the
// sinks, the last Obs prompt positions and the needle with the span after
// it, although only one query head of a GQA group looks at the needle
// (the group's weights are averaged, so one head's peak survives), and
// the needle stays through the evictions while decoding.
func TestSnapKVKeepsPlantedNeedle(t *testing.T) {
	m := tinyModel(t, tinyConfig, 5)
	cfg := sparseConfig(t, "f32") // chunks of 16, blocks of 4, Obs 6
	e := newEngine(t, m, nil, cfg)
	const prompt, budget = 120, 26 // 4 sinks, a window of 6, 16 heavy
	obs := int32(cfg.KV.Obs)
	planted := &plantedAttn{e: e, needle: [2]int32{50, 54}, obsFrom: prompt - obs, obsTo: prompt}
	e.attn = planted
	var compressions, steps int
	e.afterStep = func() {
		for _, q := range e.sched.running {
			if q.cacheSeq < 0 {
				continue
			}
			steps++
			for l := range m.Config.Layers {
				pos := e.cache.Positions(q.cacheSeq, l, nil)
				switch {
				case q.computed < prompt:
					if len(pos) != q.computed {
						t.Errorf("layer %d holds %d of the %d prompt tokens computed: evicted before the prompt was cached", l, len(pos), q.computed)
					}
					continue
				case q.computed == prompt:
					compressions++
					if len(pos) != budget {
						t.Errorf("layer %d holds %d slots after the prompt, want the budget %d", l, len(pos), budget)
					}
					for p := prompt - obs; p < prompt; p++ {
						if !slices.Contains(pos, p) {
							t.Errorf("layer %d: the observation window's position %d is gone: %v", l, p, pos)
						}
					}
				}
				for _, p := range []int32{0, 1, 2, 3, 47, 50, 53, 54, 61} {
					if !slices.Contains(pos, p) {
						t.Errorf("layer %d after %d tokens: position %d of the sinks or the needle's span is gone: %v", l, q.computed, p, pos)
					}
				}
			}
		}
	}
	r := collect(t, submit(t, e, context.Background(), Request{Prompt: make([]int32, prompt), MaxTokens: 12, IgnoreEOS: true, KVPolicy: "snapkv", KVBudget: budget}))
	if r.last.Finish != FinishLength || r.last.Usage.KVTokensEvicted == 0 {
		t.Fatalf("finished %q with %d evicted", r.last.Finish, r.last.Usage.KVTokensEvicted)
	}
	if compressions != m.Config.Layers || steps <= prompt/cfg.PrefillChunk {
		t.Fatalf("%d layers compressed after the prompt in %d steps, want %d in more than %d", compressions, steps, m.Config.Layers, prompt/cfg.PrefillChunk)
	}
}
