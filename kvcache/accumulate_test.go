package kvcache

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"sieve/kernels"
	"sieve/llama"
)

// scoreStep is one Attend round: tokens (sequence, position) and the
// random queries, keys and values of every layer.
type scoreStep struct {
	toks    [][2]int32
	q, k, v [][]float32 // per layer
}

// makeSteps draws the inputs of steps with tokens toks.
func makeSteps(r *rand.Rand, toks ...[][2]int32) []scoreStep {
	c := tinyConfig
	var out []scoreStep
	for _, ts := range toks {
		st := scoreStep{toks: ts}
		n := len(ts)
		for range c.Layers {
			st.q = append(st.q, randVec(r, n*c.Heads*c.HeadDim))
			st.k = append(st.k, randVec(r, n*c.KVDim()))
			st.v = append(st.v, randVec(r, n*c.KVDim()))
		}
		out = append(out, st)
	}
	return out
}

// runSteps feeds steps through kc and returns the outputs per step and layer.
func runSteps(t *testing.T, kc *Cache, steps []scoreStep) [][][]float32 {
	t.Helper()
	c := tinyConfig
	var outs [][][]float32
	for _, st := range steps {
		var b llama.Batch
		counts := map[int32]int{}
		for _, tk := range st.toks {
			b.Add(0, tk[1], tk[0], false)
			counts[tk[0]]++
		}
		for s, n := range counts {
			if err := kc.Reserve(s, n); err != nil {
				t.Fatal(err)
			}
		}
		var layers [][]float32
		for l := 0; l < c.Layers; l++ {
			out := make([]float32, b.Len()*c.Heads*c.HeadDim)
			kc.Attend(l, &b, st.q[l], st.k[l], st.v[l], out)
			layers = append(layers, out)
		}
		outs = append(outs, layers)
	}
	return outs
}

func TestSetAccumulatePerSequenceAndLayer(t *testing.T) {
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16} {
		t.Run(dt.String(), func(t *testing.T) {
			c := tinyConfig
			plain, scored := scoringPair(t, dt)
			for range 3 {
				plain.NewSeq()
				scored.NewSeq()
			}
			// Sequence 0 scores layer 0 from the start, sequence 1 layer 1
			// from position 37 on (mid-chunk), sequence 2 nothing.
			from := map[[2]int32]int32{{0, 0}: 0, {1, 1}: 37}
			for k, f := range from {
				scored.SetAccumulate(k[0], int(k[1]), f)
			}
			var prefill [][2]int32
			for p := int32(0); p < 45; p++ {
				prefill = append(prefill, [2]int32{1, p})
			}
			for p := int32(0); p < 20; p++ {
				prefill = append(prefill, [2]int32{0, p})
			}
			prefill = append(prefill, [2]int32{2, 0}, [2]int32{2, 1})
			toks := [][][2]int32{prefill}
			for p := int32(0); p < 6; p++ {
				toks = append(toks, [][2]int32{{0, 20 + p}, {1, 45 + p}, {2, 2 + p}})
			}
			r := rand.New(rand.NewPCG(51, 52))
			steps := makeSteps(r, toks...)
			want, got := runSteps(t, plain, steps), runSteps(t, scored, steps)
			for i := range want {
				for l := range want[i] {
					if k := firstDiff(want[i][l], got[i][l]); k >= 0 {
						t.Fatalf("step %d layer %d: scoring changed output %d", i, l, k)
					}
				}
			}
			// Reference scores: each accumulating query adds its weights
			// averaged over all query heads.
			refs := map[[2]int32]*refSeq{}
			ref := map[[2]int32][]float64{}
			for _, st := range steps {
				for l := 0; l < c.Layers; l++ {
					for i, tk := range st.toks {
						key := [2]int32{tk[0], int32(l)}
						rs := refs[key]
						if rs == nil {
							rs = &refSeq{}
							refs[key] = rs
						}
						kvd := c.KVDim()
						rs.pos = append(rs.pos, tk[1])
						rs.k = append(rs.k, stored(dt, c.HeadDim, st.k[l][i*kvd:(i+1)*kvd]))
						rs.v = append(rs.v, stored(dt, c.HeadDim, st.v[l][i*kvd:(i+1)*kvd]))
					}
					for i, tk := range st.toks {
						key := [2]int32{tk[0], int32(l)}
						f, ok := from[key]
						if !ok || tk[1] < f {
							continue
						}
						qd := c.Heads * c.HeadDim
						for h := 0; h < c.Heads; h++ {
							_, w := refAttend(scored, refs[key], st.q[l][i*qd:(i+1)*qd], h, tk[1])
							if len(ref[key]) < len(w) {
								ref[key] = append(ref[key], make([]float64, len(w)-len(ref[key]))...)
							}
							for p, x := range w {
								ref[key][p] += x / float64(c.Heads)
							}
						}
					}
				}
			}
			for s := int32(0); s < 3; s++ {
				for l := 0; l < c.Layers; l++ {
					key := [2]int32{s, int32(l)}
					sc := scored.Scores(s, l, nil)
					w := ref[key]
					for p, x := range sc {
						var exp float64
						if p < len(w) {
							exp = w[p]
						}
						if math.Abs(float64(x)-exp) > 1e-5 {
							t.Fatalf("seq %d layer %d slot %d: score %v, want %v", s, l, p, x, exp)
						}
					}
					if _, ok := from[key]; !ok && slices.ContainsFunc(sc, func(x float32) bool { return x != 0 }) {
						t.Fatalf("seq %d layer %d scored without SetAccumulate", s, l)
					}
				}
			}
			// Turning it off stops accumulating.
			scored.SetAccumulate(0, 0, NoAccumulate)
			before := scored.Scores(0, 0, nil)
			runSteps(t, scored, makeSteps(r, [][2]int32{{0, 30}}))
			if after := scored.Scores(0, 0, nil); !slices.Equal(after[:len(before)], before) || after[len(before)] != 0 {
				t.Fatal("scores changed after NoAccumulate")
			}
		})
	}
}

// firstDiff returns the first index where a and b differ in bits, or -1.
func firstDiff(a, b []float32) int {
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

func TestScoresAreBatchInvariant(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	alone := newCache(t, tinyConfig, 200, 4, kernels.F16, pool)
	mixed := newCache(t, tinyConfig, 200, 4, kernels.F16, pool)
	// Sequence 0 is the one compared: prefilled in chunks of 40 and 30,
	// then decoded; in the mixed cache, two other scoring sequences share
	// its batches.
	var chunks [][][2]int32
	for _, rng := range [][2]int32{{0, 40}, {40, 70}, {70, 71}, {71, 72}, {72, 73}} {
		var ch [][2]int32
		for p := rng[0]; p < rng[1]; p++ {
			ch = append(ch, [2]int32{0, p})
		}
		chunks = append(chunks, ch)
	}
	a := alone.NewSeq()
	alone.SetAccumulate(a, 0, 0)
	alone.SetAccumulate(a, 1, 10)
	for range 3 {
		s := mixed.NewSeq()
		mixed.SetAccumulate(s, 0, 0)
		mixed.SetAccumulate(s, 1, 10)
	}
	r := rand.New(rand.NewPCG(61, 62))
	own := makeSteps(r, chunks...)
	var mixedSteps []scoreStep
	c := tinyConfig
	qd, kvd := c.Heads*c.HeadDim, c.KVDim()
	for i, st := range own {
		// Other sequences' tokens before and after sequence 0's.
		pre, post := 3+i, 17-i
		var toks [][2]int32
		for p := 0; p < pre; p++ {
			toks = append(toks, [2]int32{1, int32(i*20 + p)})
		}
		toks = append(toks, st.toks...)
		for p := 0; p < post; p++ {
			toks = append(toks, [2]int32{2, int32(i*20 + p)})
		}
		m := scoreStep{toks: toks}
		for l := 0; l < c.Layers; l++ {
			join := func(own []float32, width int) []float32 {
				x := randVec(r, pre*width)
				x = append(x, own...)
				return append(x, randVec(r, post*width)...)
			}
			m.q = append(m.q, join(st.q[l], qd))
			m.k = append(m.k, join(st.k[l], kvd))
			m.v = append(m.v, join(st.v[l], kvd))
		}
		mixedSteps = append(mixedSteps, m)
	}
	outA := runSteps(t, alone, own)
	outM := runSteps(t, mixed, mixedSteps)
	for i := range own {
		pre, n := (3+i)*qd, len(own[i].toks)*qd
		for l := 0; l < c.Layers; l++ {
			if k := firstDiff(outA[i][l], outM[i][l][pre:pre+n]); k >= 0 {
				t.Fatalf("step %d layer %d: output differs in a mixed batch at %d", i, l, k)
			}
		}
	}
	for l := 0; l < c.Layers; l++ {
		sa, sm := alone.Scores(a, l, nil), mixed.Scores(0, l, nil)
		if k := firstDiff(sa, sm); k >= 0 {
			t.Fatalf("layer %d: slot %d score alone %v, mixed %v", l, k, sa[k], sm[k])
		}
	}
}

func TestSetScores(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	kc := newCache(t, tinyConfig, 20, 4, kernels.F32, nil)
	a := kc.NewSeq()
	fill(t, kc, a, 0, 6, r)
	want := []float32{1, 2, 3, 4, 5, 6}
	kc.SetScores(a, 1, want)
	if got := kc.Scores(a, 1, nil); !slices.Equal(got, want) {
		t.Fatalf("scores %v, want %v", got, want)
	}
	if got := kc.Scores(a, 0, nil); slices.ContainsFunc(got, func(x float32) bool { return x != 0 }) {
		t.Fatalf("setting layer 1's scores changed layer 0's: %v", got)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("SetScores accepted too few scores")
			}
		}()
		kc.SetScores(a, 1, want[:3])
	}()
	freeAll(t, kc, 20, a)
}

func TestNeedAfterRetainIsPerLayer(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	kc := newCache(t, tinyConfig, 40, 4, kernels.F32, nil)
	a := kc.NewSeq()
	fill(t, kc, a, 0, 14, r) // 4 blocks per layer, the last holding 2 slots
	kc.Retain(a, 1, []int{0, 1, 2, 3, 12})
	// Layer 0 holds 14 slots in 4 blocks, layer 1 holds 5 in 2.
	tests := []struct{ n, want int }{
		{0, 0},
		{2, 0}, // both layers fill their last block
		{3, 1 + 0},
		{4, 1 + 1},
		{7, 2 + 1},
	}
	for _, tt := range tests {
		if got := kc.Need(a, tt.n); got != tt.want {
			t.Errorf("Need(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
	free := kc.FreeBlocks()
	if err := kc.Reserve(a, 7); err != nil {
		t.Fatal(err)
	}
	if took := free - kc.FreeBlocks(); took != 3 || kc.LayerBlocks(a, 0) != 6 || kc.LayerBlocks(a, 1) != 3 {
		t.Fatalf("Reserve(7) took %d blocks, layers hold %d and %d", took, kc.LayerBlocks(a, 0), kc.LayerBlocks(a, 1))
	}
	freeAll(t, kc, 40, a)
}
