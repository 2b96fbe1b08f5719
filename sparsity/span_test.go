package sparsity

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRankScores(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name      string
		positions []int32
		scores    []float32
		lb        LayerBudget
		from      int32
		want      []float32
	}{
		{
			// Means over the queries from each position to 9: 10 down to 1
			// queries; one sink and a window of 2 keep their means, the
			// rest is pooled from 8 positions before to 3 after.
			name:      "mean then span",
			positions: []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			scores:    []float32{10, 0, 0, 14, 0, 0, 0, 0, 2, 1},
			lb:        LayerBudget{Sink: 1, Window: 2, Heavy: 3},
			want:      []float32{1, 2, 2, 2, 2, 2, 2, 2, 1, 1},
		},
		{
			// Queries from 30 on: 3 for every slot up to 30, then 2 and 1.
			// The gaps count by position: 20 is more than 8 after 10, and
			// only 30 and 31 are in each other's reach.
			name:      "positions, not slots",
			positions: []int32{0, 10, 20, 30, 31, 32},
			scores:    []float32{0, 9, 0, 6, 0, 0},
			lb:        LayerBudget{Sink: 1, Window: 1, Heavy: 1},
			from:      30,
			want:      []float32{0, 3, 0, 2, 2, 0},
		},
		{
			name:      "NaN ignored",
			positions: []int32{0, 1, 2, 3},
			scores:    []float32{nan, 6, nan, nan},
			lb:        LayerBudget{Heavy: 1},
			want:      []float32{2, 2, 2, 2},
		},
		{
			name:      "fits: a copy",
			positions: []int32{0, 1, 2},
			scores:    []float32{5, 6, 7},
			lb:        LayerBudget{Heavy: 3},
			want:      []float32{5, 6, 7},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RankScores(nil, tc.positions, tc.scores, tc.lb, tc.from)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("RankScores = %v, want %v", got, tc.want)
			}
		})
	}
}

// refRankScores is RankScores written out plainly: means, then for each
// ranked slot the largest mean in reach by position.
func refRankScores(positions []int32, scores []float32, lb LayerBudget, from int32) []float32 {
	n := len(positions)
	out := slices.Clone(scores)
	if n <= lb.Budget() {
		return out
	}
	mean := make([]float64, n)
	for i, p := range positions {
		mean[i] = float64(scores[i]) / float64(positions[n-1]-max(p, from)+1)
		out[i] = float32(mean[i])
	}
	ranked := func(i int) bool { return positions[i] >= int32(lb.Sink) && i < n-lb.Window }
	for i := range n {
		if !ranked(i) {
			continue
		}
		best := math.Inf(-1)
		for j := range n {
			if ranked(j) && positions[j] >= positions[i]-SpanAfter && positions[j] <= positions[i]+SpanBefore {
				best = math.Max(best, mean[j])
			}
		}
		out[i] = float32(best)
	}
	return out
}

func TestRankScoresMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var dst []float32
	for iter := range 500 {
		n := 1 + r.IntN(60)
		positions := make([]int32, n)
		p := int32(0)
		for i := range positions {
			p += 1 + int32(r.IntN(3)/2*r.IntN(12))
			positions[i] = p - 1
		}
		scores := make([]float32, n)
		for i := range scores {
			scores[i] = float32(r.IntN(50))
		}
		lb := LayerBudget{Sink: r.IntN(4), Window: r.IntN(6), Heavy: r.IntN(10)}
		from := int32(r.IntN(int(p)))
		dst = RankScores(dst, positions, scores, lb, from)
		if want := refRankScores(positions, scores, lb, from); !slices.Equal(dst, want) {
			t.Fatalf("case %d: RankScores(%v, %v, %v, %d) = %v, want %v", iter, positions, scores, lb, from, dst, want)
		}
	}
}

// TestRankScoresKeepsWholeNeedle plants a needle: its first tokens get the
// attention, the rest of it none, and noise elsewhere. Ranked by the raw
// scores, Keep keeps the attended tokens and scattered noise; ranked by
// RankScores it keeps the whole needle.
func TestRankScoresKeepsWholeNeedle(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const n = 300
	positions := make([]int32, n)
	scores := make([]float32, n)
	for i := range n {
		positions[i] = int32(i)
		scores[i] = float32(n-i) * (0.5 + r.Float32()) / 200 // old slots have summed more
	}
	const needle = 150                        // the needle is positions 150..161
	scores[needle], scores[needle+1] = 3, 2.5 // its key and first digit
	lb := LayerBudget{Sink: 4, Window: 32, Heavy: 16}
	kept := func(s []float32) []int32 {
		var out []int32
		for _, i := range Keep(nil, positions, s, lb) {
			out = append(out, positions[i])
		}
		return out
	}
	raw := kept(scores)
	if slices.Contains(raw, needle+8) {
		t.Fatalf("the raw scores keep the needle's tail already: %v", raw)
	}
	got := kept(RankScores(nil, positions, scores, lb, 0))
	for p := int32(needle - SpanBefore); p <= needle+SpanAfter; p++ {
		if !slices.Contains(got, p) {
			t.Fatalf("position %d of the needle's span is gone: %v", p, got)
		}
	}
}

func TestRankScoresAllocs(t *testing.T) {
	positions := make([]int32, 256)
	scores := make([]float32, 256)
	for i := range positions {
		positions[i], scores[i] = int32(i), float32(i%7)
	}
	lb := LayerBudget{Sink: 4, Window: 32, Heavy: 64}
	dst := RankScores(nil, positions, scores, lb, 0)
	if a := testing.AllocsPerRun(10, func() { dst = RankScores(dst, positions, scores, lb, 0) }); a != 0 {
		t.Fatalf("%v allocations per call", a)
	}
}

func TestFill(t *testing.T) {
	tests := []struct {
		weights         []float64
		total, capacity int
		want            []int
	}{
		{weights: []float64{1, 1, 1}, total: 9, capacity: 100, want: []int{3, 3, 3}},
		{weights: []float64{1, 1, 1}, total: 10, capacity: 100, want: []int{4, 3, 3}},
		{weights: []float64{3, 1}, total: 8, capacity: 5, want: []int{5, 3}},
		{weights: []float64{8, 1, 1}, total: 12, capacity: 5, want: []int{5, 4, 3}}, // 3.5 and 3.5: the lower layer first
		{weights: []float64{1, 1}, total: 50, capacity: 5, want: []int{5, 5}},
		{weights: []float64{2, 1}, total: 0, capacity: 5, want: []int{0, 0}},
	}
	for _, tc := range tests {
		if got := fill(tc.weights, tc.total, tc.capacity); !slices.Equal(got, tc.want) {
			t.Errorf("fill(%v, %d, %d) = %v, want %v", tc.weights, tc.total, tc.capacity, got, tc.want)
		}
	}
}
