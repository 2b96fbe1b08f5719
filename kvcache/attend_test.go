package kvcache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
	"sieve/model/llama2c"
)

// plan is a multi-sequence generation: prompts prefilled in interleaved
// chunks, then decode steps with every sequence in one batch.
type plan struct {
	prompts [][]int32
	chunk   int
	decode  int
}

// replay runs the plan through att, feeding the tokens in forced (when
// non-nil, indexed [seq][step]) or else the greedy choice, and returns the
// logits of every forward pass and the tokens fed.
func (p plan) replay(t *testing.T, m *model.Model, pool *kernels.Pool, att llama.Attention, reserve func(seq int32, n int), forced [][]int32) ([][]float32, [][]int32) {
	t.Helper()
	r := llama.NewRunner(m, pool, 64)
	var all [][]float32
	var b llama.Batch
	next := make([]int32, len(p.prompts))
	fed := make([][]int32, len(p.prompts))
	forward := func() []float32 {
		logits, err := r.Forward(&b, att)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, append([]float32(nil), logits...))
		return logits
	}
	for off := 0; ; off += p.chunk {
		b.Reset()
		var ends []int
		for s, pr := range p.prompts {
			if off >= len(pr) {
				continue
			}
			end := min(off+p.chunk, len(pr))
			reserve(int32(s), end-off)
			for i := off; i < end; i++ {
				b.Add(pr[i], int32(i), int32(s), i == len(pr)-1)
			}
			if end == len(pr) {
				ends = append(ends, s)
			}
		}
		if b.Len() == 0 {
			break
		}
		logits := forward()
		for j, s := range ends {
			next[s] = argmax(logits[j*m.Config.VocabSize : (j+1)*m.Config.VocabSize])
		}
	}
	for step := 0; step < p.decode; step++ {
		b.Reset()
		for s, pr := range p.prompts {
			tok := next[s]
			if forced != nil {
				tok = forced[s][step]
			}
			fed[s] = append(fed[s], tok)
			reserve(int32(s), 1)
			b.Add(tok, int32(len(pr)+step), int32(s), true)
		}
		logits := forward()
		for s := range p.prompts {
			next[s] = argmax(logits[s*m.Config.VocabSize : (s+1)*m.Config.VocabSize])
		}
	}
	return all, fed
}

func argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// comparePagedToDense runs the plan with a DenseCache, then with paged
// caches of several block sizes fed the same tokens, and checks the logits:
// bit for bit with F32 storage, within tol with F16.
func comparePagedToDense(t *testing.T, m *model.Model, p plan, tolF16 float64) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	c := m.Config
	maxLen := 0
	for _, pr := range p.prompts {
		maxLen = max(maxLen, len(pr)+p.decode)
	}
	dense := llama.NewDenseCache(c, pool, len(p.prompts), maxLen)
	want, fed := p.replay(t, m, pool, dense, func(int32, int) {}, nil)
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16} {
		for _, bs := range []int{1, 3, 16, 64} {
			t.Run(fmt.Sprintf("%v/block%d", dt, bs), func(t *testing.T) {
				blocks := len(p.prompts) * c.Layers * ((maxLen + bs - 1) / bs)
				kc := newCache(t, c, blocks, bs, dt, pool)
				for range p.prompts {
					kc.NewSeq()
				}
				reserve := func(s int32, n int) {
					if err := kc.Reserve(s, n); err != nil {
						t.Fatal(err)
					}
				}
				got, _ := p.replay(t, m, pool, kc, reserve, fed)
				worst := 0.0
				for i := range want {
					for j := range want[i] {
						if dt == kernels.F32 && math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
							t.Fatalf("pass %d logit %d: paged %v, dense %v", i, j, got[i][j], want[i][j])
						}
						worst = max(worst, math.Abs(float64(got[i][j]-want[i][j])))
					}
				}
				t.Logf("largest logit difference %g", worst)
				if worst > tolF16 {
					t.Fatalf("largest logit difference %g over %g", worst, tolF16)
				}
				for s := range p.prompts {
					kc.Free(int32(s))
				}
				if kc.FreeBlocks() != blocks {
					t.Fatalf("%d of %d blocks back", kc.FreeBlocks(), blocks)
				}
			})
		}
	}
}

func randomPrompts(r *rand.Rand, vocab int, lens ...int) [][]int32 {
	var ps [][]int32
	for _, n := range lens {
		p := make([]int32, n)
		for i := range p {
			p[i] = int32(r.IntN(vocab))
		}
		ps = append(ps, p)
	}
	return ps
}

func TestPagedMatchesDenseRandomModel(t *testing.T) {
	m := randomModel(t, tinyConfig, 11)
	r := rand.New(rand.NewPCG(12, 13))
	p := plan{prompts: randomPrompts(r, tinyConfig.VocabSize, 10, 37, 1, 20), chunk: 7, decode: 30}
	comparePagedToDense(t, m, p, 0.05)
}

func TestPagedMatchesDenseStories260K(t *testing.T) {
	m, err := llama2c.Load(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := rand.New(rand.NewPCG(14, 15))
	p := plan{prompts: randomPrompts(r, m.Config.VocabSize, 1, 12, 30), chunk: 16, decode: 60}
	p.prompts[0][0] = 1 // BOS alone
	comparePagedToDense(t, m, p, 0.05)
}
