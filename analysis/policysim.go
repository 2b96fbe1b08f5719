package analysis

import (
	"math"

	"sieve/sparsity"
)

// WindowShares are the window sizes, as shares of a layer's budget after
// its sinks, that Run replays for calibration: a quarter (the policies'
// default), a half, and all of it (a sliding window, no heavy hitters).
var WindowShares = []float64{0.25, 0.5, 1}

// PolicyPoint is the attention mass a sparse layer keeps at one budget,
// replayed through the eviction policy.
type PolicyPoint struct {
	// Budget is the layer's budget in tokens and Window its window.
	Budget int `json:"budget"`
	Window int `json:"window"`
	// Retained is the mass the kept slots hold of each query's attention
	// under the full cache, averaged over every query of every sequence.
	Retained float64 `json:"retained"`
}

// budgetGrid is the budgets the replay runs at: 1, then steps of about
// √2 up to, and including, longest.
func budgetGrid(longest int) []int {
	var g []int
	for t := 1.0; int(t) < longest; t *= math.Sqrt2 {
		if len(g) == 0 || int(t) > g[len(g)-1] {
			g = append(g, int(t))
		}
	}
	return append(g, longest)
}

// replay runs one layer's pooled attention through one sparse budget, as
// the engine would evict after each decode step: the new key is cached,
// the query attends to the kept slots (its scores, renormalised over them,
// accumulate for the heavy hitters), and the layer is compacted with
// sparsity.Keep over sparsity.RankScores once it holds a block over its
// budget.
type replay struct {
	lb       sparsity.LayerBudget
	block    int
	pos      []int32
	scores   []float32
	keep     []int
	ranked   []float32
	retained float64
}

// newReplay makes a replay of budget t with the given window share.
func newReplay(t, sink, block int, share float64) *replay {
	s := min(sink, t)
	w := min(int(share*float64(t-s)), t-s)
	if share >= 1 {
		w = t - s
	}
	return &replay{lb: sparsity.LayerBudget{Sink: s, Window: w, Heavy: t - s - w}, block: block}
}

// reset starts a sequence.
func (r *replay) reset() { r.pos, r.scores = r.pos[:0], r.scores[:0] }

// query replays the query at position len(w)-1 with full-cache weights w.
func (r *replay) query(w []float32) {
	r.pos = append(r.pos, int32(len(w)-1))
	r.scores = append(r.scores, 0)
	var mass float64
	for _, p := range r.pos {
		mass += float64(w[p])
	}
	r.retained += mass
	if r.lb.Heavy > 0 && mass > 0 {
		for j, p := range r.pos {
			r.scores[j] += float32(float64(w[p]) / mass)
		}
	}
	if !sparsity.ShouldEvict(len(r.pos), r.lb, r.block) {
		return
	}
	var scores []float32
	if r.lb.Heavy > 0 {
		r.ranked = sparsity.RankScores(r.ranked, r.pos, r.scores, r.lb, 0)
		scores = r.ranked
	}
	r.keep = sparsity.Keep(r.keep, r.pos, scores, r.lb)
	for j, i := range r.keep {
		r.pos[j], r.scores[j] = r.pos[i], r.scores[i]
	}
	r.pos, r.scores = r.pos[:len(r.keep)], r.scores[:len(r.keep)]
}
