package kvcache

import (
	"math"
	"math/rand/v2"
	"testing"

	"sieve/kernels"
	"sieve/llama"
)

func TestScoringKeepsOutputAndMatchesReference(t *testing.T) {
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16} {
		t.Run(dt.String(), func(t *testing.T) {
			c := tinyConfig
			plain, scored := scoringPair(t, dt)
			refs := map[int32][]*refSeq{}
			want := map[int32][][]float64{} // per sequence and layer: the expected slot scores
			for range 3 {
				s := plain.NewSeq()
				scored.NewSeq()
				for l := range c.Layers {
					refs[s] = append(refs[s], &refSeq{})
					want[s] = append(want[s], nil)
					scored.SetAccumulate(s, l, 0)
				}
			}
			r := rand.New(rand.NewPCG(31, 32))
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
						rs.k = append(rs.k, stored(dt, c.HeadDim, k[i*kvd:(i+1)*kvd]))
						rs.v = append(rs.v, stored(dt, c.HeadDim, v[i*kvd:(i+1)*kvd]))
					}
					for i := 0; i < n; i++ {
						rs := refs[b.Seq[i]][l]
						ws := &want[b.Seq[i]][l]
						for len(*ws) < len(rs.pos) {
							*ws = append(*ws, 0)
						}
						for h := 0; h < c.Heads; h++ {
							_, hw := refAttend(scored, rs, q[i*qd:(i+1)*qd], h, b.Pos[i])
							for p, x := range hw {
								(*ws)[p] += x / float64(c.Heads)
							}
						}
					}
				}
			}
			for s := range refs {
				for l := 0; l < c.Layers; l++ {
					got := scored.Scores(s, l, nil)
					if len(got) != len(want[s][l]) {
						t.Fatalf("seq %d layer %d: %d scores, want %d", s, l, len(got), len(want[s][l]))
					}
					for p, w := range want[s][l] {
						if math.Abs(float64(got[p])-w) > 1e-5 {
							t.Fatalf("seq %d layer %d slot %d: score %v, want %v", s, l, p, got[p], w)
						}
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
