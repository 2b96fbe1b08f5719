package kvcache

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"sieve/kernels"
	"sieve/llama"
)

// weightKey names one hook call.
type weightKey struct {
	layer  int
	seq    int32
	pos    int32
	kvHead int
}

func TestScoringKeepsOutputAndMatchesReference(t *testing.T) {
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16} {
		t.Run(dt.String(), func(t *testing.T) {
			c := tinyConfig
			plain, scored := scoringPair(t, dt)
			var mu sync.Mutex
			got := map[weightKey][]float32{}
			scored.SetScoring(Scoring{Accumulate: true, Weights: func(layer int, seq, pos int32, kvHead int, w []float32) {
				mu.Lock()
				defer mu.Unlock()
				got[weightKey{layer, seq, pos, kvHead}] = slices.Clone(w)
			}})
			refs := map[int32][]*refSeq{}
			for range 3 {
				s := plain.NewSeq()
				scored.NewSeq()
				for range c.Layers {
					refs[s] = append(refs[s], &refSeq{})
				}
			}
			r := rand.New(rand.NewPCG(31, 32))
			queries := map[int32]int{}
			steps := [][][2]int32{
				{{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 0}, {1, 1}, {2, 0}},
				{{0, 5}, {1, 2}, {2, 1}},
				{{0, 6}, {1, 3}, {2, 2}},
				{{2, 3}, {2, 4}, {2, 5}, {2, 6}, {2, 7}, {2, 8}},
				{{0, 7}, {1, 4}, {0, 8}, {2, 9}}, // sequence 0 in two runs
			}
			qd, kvd := c.Heads*c.HeadDim, c.KVDim()
			for _, st := range steps {
				var b llama.Batch
				counts := map[int32]int{}
				for _, tk := range st {
					b.Add(0, tk[1], tk[0], false)
					queries[tk[0]]++
					counts[tk[0]]++
				}
				for s, cnt := range counts {
					for _, kc := range []*Cache{plain, scored} {
						if err := kc.Reserve(s, cnt); err != nil {
							t.Fatal(err)
						}
					}
				}
				n := b.Len()
				for l := 0; l < c.Layers; l++ {
					q, k, v := randVec(r, n*qd), randVec(r, n*kvd), randVec(r, n*kvd)
					o1, o2 := make([]float32, n*qd), make([]float32, n*qd)
					plain.Attend(l, &b, q, k, v, o1)
					scored.Attend(l, &b, q, k, v, o2)
					for i := range o1 {
						if math.Float32bits(o1[i]) != math.Float32bits(o2[i]) {
							t.Fatalf("scoring changed output %d: %v vs %v", i, o2[i], o1[i])
						}
					}
					for i := 0; i < n; i++ {
						rs := refs[b.Seq[i]][l]
						rs.pos = append(rs.pos, b.Pos[i])
						rs.k = append(rs.k, stored(dt, k[i*kvd:(i+1)*kvd]))
						rs.v = append(rs.v, stored(dt, v[i*kvd:(i+1)*kvd]))
					}
					group := c.Heads / c.KVHeads
					for i := 0; i < n; i++ {
						rs := refs[b.Seq[i]][l]
						for kh := 0; kh < c.KVHeads; kh++ {
							w := got[weightKey{l, b.Seq[i], b.Pos[i], kh}]
							var want []float64
							for h := kh * group; h < (kh+1)*group; h++ {
								_, hw := refAttend(scored, rs, q[i*qd:(i+1)*qd], h, b.Pos[i])
								if want == nil {
									want = make([]float64, len(hw))
								}
								for p, x := range hw {
									want[p] += x / float64(group)
								}
							}
							if len(w) != len(want) {
								t.Fatalf("layer %d seq %d pos %d head %d: %d weights, want %d", l, b.Seq[i], b.Pos[i], kh, len(w), len(want))
							}
							for p := range want {
								if math.Abs(float64(w[p])-want[p]) > 1e-6 {
									t.Fatalf("weight %d: %v, want %v", p, w[p], want[p])
								}
							}
						}
					}
				}
			}
			// Each query adds a total of 1 to its (sequence, layer) scores.
			for s, nq := range queries {
				for l := 0; l < c.Layers; l++ {
					var sum float64
					for _, x := range scored.Scores(s, l, nil) {
						sum += float64(x)
					}
					if math.Abs(sum-float64(nq)) > 1e-4 {
						t.Errorf("seq %d layer %d: scores sum to %v, want %d", s, l, sum, nq)
					}
					for _, x := range plain.Scores(s, l, nil) {
						if x != 0 {
							t.Fatalf("scores accumulated with scoring off")
						}
					}
				}
			}
		})
	}
}

func TestAttendSteadyStateAllocatesNothing(t *testing.T) {
	for _, scored := range []bool{false, true} {
		pool := kernels.NewPool(2)
		defer pool.Close()
		c := tinyConfig
		kc := newCache(t, c, 200, 16, kernels.F16, pool)
		r := rand.New(rand.NewPCG(41, 42))
		a, b := kc.NewSeq(), kc.NewSeq()
		if scored {
			kc.SetAccumulate(a, 1, 0)
			kc.SetAccumulate(b, 0, 0)
		}
		fill(t, kc, a, 0, 20, r)
		fill(t, kc, b, 0, 3, r)
		for _, s := range []int32{a, b} {
			if err := kc.Reserve(s, 200); err != nil {
				t.Fatal(err)
			}
		}
		var batch llama.Batch
		batch.Add(0, 0, a, true)
		batch.Add(0, 0, b, true)
		qd, kvd := c.Heads*c.HeadDim, c.KVDim()
		q, k, v, out := randVec(r, 2*qd), randVec(r, 2*kvd), randVec(r, 2*kvd), make([]float32, 2*qd)
		pos := int32(100)
		allocs := testing.AllocsPerRun(50, func() {
			batch.Pos[0], batch.Pos[1] = pos, pos
			pos++
			for l := 0; l < c.Layers; l++ {
				kc.Attend(l, &batch, q, k, v, out)
			}
		})
		if allocs != 0 {
			t.Fatalf("scored %v: Attend allocates %v times per decode step", scored, allocs)
		}
	}
}
