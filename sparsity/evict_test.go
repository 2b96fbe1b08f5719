package sparsity

import (
	"slices"
	"testing"
)

// fakeSlots is a Slots over plain slices, one per layer.
type fakeSlots struct {
	pos    [][]int32
	scores [][]float32
	from   []int32 // per layer: SetAccumulate's position; -1 for none
}

func newFakeSlots(layers, n int, score func(p int) float32) *fakeSlots {
	f := &fakeSlots{pos: make([][]int32, layers), scores: make([][]float32, layers), from: make([]int32, layers)}
	for l := range layers {
		f.from[l] = -1
		for p := range n {
			f.pos[l] = append(f.pos[l], int32(p))
			f.scores[l] = append(f.scores[l], score(p))
		}
	}
	return f
}

func (f *fakeSlots) Len(l int) int                         { return len(f.pos[l]) }
func (f *fakeSlots) Positions(l int, dst []int32) []int32  { return append(dst, f.pos[l]...) }
func (f *fakeSlots) Scores(l int, dst []float32) []float32 { return append(dst, f.scores[l]...) }
func (f *fakeSlots) SetScores(l int, s []float32)          { f.scores[l] = slices.Clone(s) }
func (f *fakeSlots) SetAccumulate(l int, from int32)       { f.from[l] = from }
func (f *fakeSlots) Retain(l int, keep []int) {
	var pos []int32
	var sc []float32
	for _, k := range keep {
		pos, sc = append(pos, f.pos[l][k]), append(sc, f.scores[l][k])
	}
	f.pos[l], f.scores[l] = pos, sc
}

func TestEvictorStep(t *testing.T) {
	// Two layers, blocks of 4; the heavy hitters are the slots at positions
	// that are multiples of 5 (slot 15 is in the window anyway).
	heavy := func(p int) float32 {
		if p%5 == 0 {
			return 10
		}
		return 1
	}
	sink13 := func() *SinkTokens {
		s, err := NewSinkTokens([]int32{13})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name          string
		plan          Plan
		n             int // slots held in each layer
		cached        int // prompt tokens cached (prompt is 16)
		tokens        []int32
		wantPos       []int32 // layer 1 after the step; nil: the primitives' choice (see keepRef)
		wantDropped   int
		wantCompacted int
		wantFrom      []int32 // SetAccumulate per layer after Start
	}{
		{name: "window", plan: Plan{Layers: []LayerBudget{{Dense: true}, {Sink: 2, Window: 4}}, BlockSize: 4},
			n: 16, cached: 16, wantPos: []int32{0, 1, 12, 13, 14, 15}, wantDropped: 10, wantCompacted: 1, wantFrom: []int32{-1, -1}},
		{name: "not due", plan: Plan{Layers: []LayerBudget{{Dense: true}, {Sink: 2, Window: 4}}, BlockSize: 4},
			n: 9, cached: 9, wantPos: seq(0, 9), wantFrom: []int32{-1, -1}},
		{name: "h2o", plan: Plan{Layers: []LayerBudget{{Sink: 1, Window: 2, Heavy: 2}, {Sink: 1, Window: 2, Heavy: 2}}, BlockSize: 4},
			n: 16, cached: 16, wantDropped: 22, wantCompacted: 2, wantFrom: []int32{0, 0}},
		{name: "sink tokens", plan: Plan{Layers: []LayerBudget{{Dense: true}, {Sink: 1, Window: 2, Heavy: 2}}, BlockSize: 4, SinkTokens: sink13()},
			n: 16, cached: 16, tokens: []int32{1, 2, 3, 4, 5, 6, 7, 13, 9, 9, 9, 9, 9, 9, 9, 9},
			wantDropped: 11, wantCompacted: 1, wantFrom: []int32{-1, 0}},
		{name: "snapkv waits for the prompt", plan: Plan{Layers: []LayerBudget{{Dense: true}, {Sink: 1, Window: 2, Heavy: 2}}, BlockSize: 4, AfterPrompt: true, Observe: 4, Kernel: 1},
			n: 12, cached: 12, wantPos: seq(0, 12), wantFrom: []int32{-1, 12}},
		{name: "snapkv compresses the prompt", plan: Plan{Layers: []LayerBudget{{Dense: true}, {Sink: 1, Window: 2, Heavy: 2}}, BlockSize: 4, AfterPrompt: true, Observe: 4, Kernel: 1},
			n: 16, cached: 16, wantDropped: 11, wantCompacted: 1, wantFrom: []int32{-1, 12}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newFakeSlots(len(tc.plan.Layers), tc.n, heavy)
			var e Evictor
			pr := e.Start(s, &tc.plan, 16)
			if !slices.Equal(s.from, tc.wantFrom) {
				t.Fatalf("accumulating from %v, want %v", s.from, tc.wantFrom)
			}
			want := tc.wantPos
			if want == nil {
				want = keepRef(s, &tc.plan, pr.From, tc.tokens)
			}
			dropped, compacted := e.Step(s, &tc.plan, &pr, tc.cached, 16, tc.tokens)
			if dropped != tc.wantDropped || compacted != tc.wantCompacted {
				t.Fatalf("dropped %d in %d layers, want %d in %d", dropped, compacted, tc.wantDropped, tc.wantCompacted)
			}
			if !slices.Equal(s.pos[1], want) {
				t.Fatalf("layer 1 keeps positions %v, want %v", s.pos[1], want)
			}
			if pr.Compressed != (tc.plan.AfterPrompt && tc.cached >= 16) {
				t.Fatalf("compressed %v", pr.Compressed)
			}
		})
	}
}

// keepRef is the positions layer 1 of s keeps when compacted by the
// primitives Step is built from, called directly: SnapKVScores for an
// AfterPrompt plan, RankScores, then SinkKeeper.Keep with the slots
// holding sink tokens protected.
func keepRef(s *fakeSlots, p *Plan, from int32, tokens []int32) []int32 {
	lb := p.Layers[1]
	pos, scores := s.pos[1], s.scores[1]
	if p.AfterPrompt {
		scores = SnapKVScores(nil, scores, lb.Window, p.Kernel)
	}
	var protect []int
	for i, q := range pos {
		if p.SinkTokens != nil && int(q) < len(tokens) && p.SinkTokens.Has(tokens[q]) {
			protect = append(protect, i)
		}
	}
	var k SinkKeeper
	var out []int32
	for _, i := range k.Keep(nil, pos, RankScores(nil, pos, scores, lb, from), lb, protect) {
		out = append(out, pos[i])
	}
	return out
}
