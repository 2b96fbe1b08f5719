package sparsity

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// seq returns the positions lo, lo+1, ..., lo+n-1.
func seq(lo, n int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(lo + i)
	}
	return p
}

// ints returns lo, lo+1, ..., hi-1.
func ints(lo, hi int) []int {
	out := []int{}
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestKeep(t *testing.T) {
	nan := float32(math.NaN())
	ninf := float32(math.Inf(-1))
	tests := []struct {
		name      string
		positions []int32
		scores    []float32
		lb        LayerBudget
		want      []int
	}{
		{
			name:      "window: sinks and recent",
			positions: seq(0, 20),
			lb:        LayerBudget{Sink: 4, Window: 6},
			want:      append(ints(0, 4), ints(14, 20)...),
		},
		{
			name:      "window ignores scores",
			positions: seq(0, 12),
			scores:    []float32{0, 0, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0},
			lb:        LayerBudget{Sink: 2, Window: 3},
			want:      []int{0, 1, 9, 10, 11},
		},
		{
			name:      "h2o: top scores, ties to the earlier slot",
			positions: seq(0, 12),
			scores:    []float32{0, 0, 0.1, 0.5, 0.9, 0.5, 0.5, 0.2, 0, 0, 0, 0},
			lb:        LayerBudget{Sink: 2, Window: 3, Heavy: 3},
			want:      []int{0, 1, 3, 4, 5, 9, 10, 11},
		},
		{
			name:      "h2o: protected slots kept whatever their score",
			positions: seq(0, 10),
			scores:    []float32{-5, -5, 1, 2, 3, 4, 5, 6, -5, -5},
			lb:        LayerBudget{Sink: 1, Window: 1, Heavy: 2},
			want:      []int{0, 6, 7, 9},
		},
		{
			name:      "h2o after an earlier eviction",
			positions: []int32{0, 1, 2, 3, 7, 9, 12, 13, 20, 21, 22, 23},
			scores:    []float32{0, 0, 0, 0, 3, 1, 4, 1, 5, 0, 0, 0},
			lb:        LayerBudget{Sink: 4, Window: 2, Heavy: 3},
			want:      []int{0, 1, 2, 3, 4, 6, 8, 10, 11},
		},
		{
			name:      "missing sinks go to heavy hitters",
			positions: seq(10, 10),
			scores:    []float32{8, 1, 7, 2, 6, 3, 5, 4, 0, 0},
			lb:        LayerBudget{Sink: 4, Window: 2, Heavy: 2},
			want:      []int{0, 2, 4, 5, 6, 7, 8, 9},
		},
		{
			name:      "some sinks present",
			positions: []int32{2, 3, 5, 6, 7, 8, 9, 10},
			scores:    []float32{0, 0, 1, 9, 2, 8, 0, 0},
			lb:        LayerBudget{Sink: 4, Window: 2, Heavy: 1},
			want:      []int{0, 1, 3, 4, 5, 6, 7},
		},
		{
			name:      "missing sinks widen the window without heavy hitters",
			positions: seq(10, 10),
			scores:    []float32{9, 9, 9, 9, 9, 9, 9, 9, 9, 9},
			lb:        LayerBudget{Sink: 4, Window: 4},
			want:      ints(2, 10),
		},
		{
			name:      "nil scores fall back to recency",
			positions: seq(0, 10),
			lb:        LayerBudget{Sink: 2, Window: 2, Heavy: 2},
			want:      []int{0, 1, 6, 7, 8, 9},
		},
		{
			name:      "NaN ranks below -Inf",
			positions: seq(0, 8),
			scores:    []float32{0, nan, nan, ninf, nan, -1, nan, 0},
			lb:        LayerBudget{Sink: 1, Window: 1, Heavy: 2},
			want:      []int{0, 3, 5, 7},
		},
		{
			name:      "at the budget keeps all",
			positions: seq(0, 8),
			scores:    make([]float32, 8),
			lb:        LayerBudget{Sink: 2, Window: 2, Heavy: 4},
			want:      ints(0, 8),
		},
		{
			name:      "under the budget keeps all",
			positions: seq(0, 3),
			lb:        LayerBudget{Sink: 4, Window: 8, Heavy: 8},
			want:      ints(0, 3),
		},
		{
			name:      "dense keeps all",
			positions: seq(0, 50),
			lb:        LayerBudget{Dense: true},
			want:      ints(0, 50),
		},
		{
			name: "empty",
			lb:   LayerBudget{Sink: 1, Window: 1},
			want: []int{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Keep(nil, tc.positions, tc.scores, tc.lb)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Keep = %v, want %v", got, tc.want)
			}
			checkKeep(t, got, tc.positions, tc.lb)
		})
	}
}

// checkKeep asserts the invariants of every keep set: exact count, strictly
// increasing, sinks and window kept.
func checkKeep(t *testing.T, got []int, positions []int32, lb LayerBudget) {
	t.Helper()
	n := len(positions)
	want := n
	if !lb.Dense {
		want = min(n, lb.Budget())
	}
	if len(got) != want {
		t.Fatalf("kept %d slots, want %d", len(got), want)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("keep set %v not strictly increasing", got)
		}
	}
	for i, p := range positions {
		if (p < int32(lb.Sink) || i >= n-lb.Window) && !slices.Contains(got, i) {
			t.Fatalf("protected slot %d (position %d) evicted: %v", i, p, got)
		}
	}
}

// refKeep is Keep written plainly, by sorting.
func refKeep(positions []int32, scores []float32, lb LayerBudget) []int {
	n := len(positions)
	if lb.Dense || n <= lb.Budget() {
		return ints(0, n)
	}
	keep := map[int]bool{}
	s := 0
	for i, p := range positions {
		if p < int32(lb.Sink) {
			keep[i] = true
			s++
		}
	}
	w := min(lb.Window, n-s)
	k := lb.Budget() - s - w
	if lb.Heavy == 0 || scores == nil {
		w += k
		k = 0
	}
	for i := n - w; i < n; i++ {
		keep[i] = true
	}
	if k == 0 {
		return sortedKeys(keep)
	}
	cand := ints(s, n-w)
	slices.SortStableFunc(cand, func(a, b int) int {
		sa, sb := float64(scores[a]), float64(scores[b])
		if na, nb := math.IsNaN(sa), math.IsNaN(sb); na || nb {
			return cmp.Compare(b2i(na), b2i(nb))
		}
		return cmp.Compare(sb, sa)
	})
	for _, i := range cand[:k] {
		keep[i] = true
	}
	return sortedKeys(keep)
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortedKeys returns the set's members in increasing order.
func sortedKeys(set map[int]bool) []int {
	out := []int{}
	for i := range set {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

func TestKeepMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var dst []int
	for iter := range 2000 {
		n := r.IntN(60)
		positions := make([]int32, n)
		p := int32(0)
		if r.IntN(4) == 0 {
			p = int32(r.IntN(6))
		}
		for i := range positions {
			positions[i] = p
			p += 1 + int32(r.IntN(3))
		}
		var scores []float32
		if r.IntN(8) != 0 {
			scores = make([]float32, n)
			for i := range scores {
				scores[i] = float32(r.IntN(5)) // few values: many ties
				if r.IntN(20) == 0 {
					scores[i] = float32(math.NaN())
				}
			}
		}
		lb := LayerBudget{Sink: r.IntN(6), Window: r.IntN(12), Heavy: r.IntN(20), Dense: r.IntN(30) == 0}
		if lb.Dense {
			lb = LayerBudget{Dense: true}
		}
		dst = Keep(dst, positions, scores, lb)
		want := refKeep(positions, scores, lb)
		if !slices.Equal(dst, want) {
			t.Fatalf("case %d: Keep(%v, %v, %+v) = %v, want %v", iter, positions, scores, lb, dst, want)
		}
		checkKeep(t, dst, positions, lb)
	}
}

func TestKeepScoresLengthPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Keep with too few scores did not panic")
		}
	}()
	Keep(nil, seq(0, 10), make([]float32, 9), LayerBudget{Sink: 1, Window: 1, Heavy: 1})
}

func TestKeepAllocs(t *testing.T) {
	const n = 4096
	positions := seq(0, n)
	scores := make([]float32, n)
	for i := range scores {
		scores[i] = float32((i * 7919) % 1000)
	}
	lb := LayerBudget{Sink: 4, Window: 256, Heavy: 764}
	dst := Keep(nil, positions, scores, lb)
	allocs := testing.AllocsPerRun(20, func() {
		dst = Keep(dst, positions, scores, lb)
	})
	if allocs != 0 {
		t.Fatalf("Keep allocates %v times per call with a reused dst", allocs)
	}
	if len(dst) != lb.Budget() {
		t.Fatalf("kept %d, want %d", len(dst), lb.Budget())
	}
}

func TestShouldEvict(t *testing.T) {
	lb := LayerBudget{Sink: 4, Window: 12, Heavy: 16} // budget 32
	tests := []struct {
		n    int
		lb   LayerBudget
		want bool
	}{
		{n: 0, lb: lb, want: false},
		{n: 32, lb: lb, want: false},
		{n: 47, lb: lb, want: false},
		{n: 48, lb: lb, want: true},
		{n: 100, lb: lb, want: true},
		{n: 1 << 20, lb: LayerBudget{Dense: true}, want: false},
	}
	for _, tc := range tests {
		if got := ShouldEvict(tc.n, tc.lb, 16); got != tc.want {
			t.Errorf("ShouldEvict(%d, %v, 16) = %v, want %v", tc.n, tc.lb, got, tc.want)
		}
	}
}

func BenchmarkKeep(b *testing.B) {
	lb := LayerBudget{Sink: 4, Window: 256, Heavy: 764}
	for _, bc := range []struct {
		name string
		n    int
	}{
		{name: "steady", n: lb.Budget() + 16}, // one block over the budget
		{name: "prompt", n: 8192},             // a long prompt compressed at once
	} {
		b.Run(bc.name, func(b *testing.B) {
			positions := seq(0, bc.n)
			scores := make([]float32, bc.n)
			r := rand.New(rand.NewPCG(3, 4))
			for i := range scores {
				scores[i] = r.Float32()
			}
			dst := make([]int, 0, bc.n)
			for b.Loop() {
				dst = Keep(dst, positions, scores, lb)
			}
		})
	}
}
