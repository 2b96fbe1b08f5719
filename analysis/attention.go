package analysis

import (
	"math"
	"slices"

	"sieve/model"
)

// Attention is what the attention weights showed. Head and layer means are
// taken over the scored queries: in each sequence, the queries at positions
// from MinPos on (Recent, or half the sequence when it is shorter than
// twice Recent), so that every scored query sees more keys than the recent
// window holds.
type Attention struct {
	// Recent is the width of the recent window.
	Recent int `json:"recent"`
	// Heads holds one entry per layer and KV head, layer-major. A KV
	// head's weights are the mean of its query heads' weights.
	Heads []HeadStats `json:"heads"`
	// Layers holds the same statistics per layer, for the weights averaged
	// over all the layer's heads: the scores the sparsity policies rank by.
	Layers []LayerAttention `json:"layers"`
}

// HeadStats are the mean attention statistics of one KV head.
type HeadStats struct {
	Layer int `json:"layer"`
	Head  int `json:"head"`
	// First is the mass on the first token, Massive on the tokens carrying
	// massive activations, Recent on the last Recent keys.
	First   float64 `json:"first"`
	Massive float64 `json:"massive"`
	Recent  float64 `json:"recent"`
	// Entropy is in nats.
	Entropy float64 `json:"entropy"`
	// Keys90 and Keys95 are how many keys cover 90% and 95% of the mass.
	Keys90 float64 `json:"keys90"`
	Keys95 float64 `json:"keys95"`
	// Seen is the mean number of keys a scored query sees.
	Seen float64 `json:"seen"`
	// Queries counts the scored queries.
	Queries int `json:"queries"`
}

// LayerAttention is HeadStats for a layer's pooled weights, with the
// retention curve calibration uses.
type LayerAttention struct {
	HeadStats
	// Retained[k] is the mass the best k keys keep, averaged over every
	// query of every sequence (a query seeing at most k keys keeps 1): an
	// upper bound for any policy.
	Retained []float64 `json:"retained"`
	// Policy is the mass the layered policy's sparse layer keeps, replayed
	// at a grid of budgets for each of WindowShares, budget-major.
	Policy []PolicyPoint `json:"policy"`
}

// headAcc sums the statistics of one head or layer.
type headAcc struct {
	first, massive, recent, entropy, k90, k95, seen float64
	queries                                         int
	keys                                            []float64 // per key position, summed over the scored queries of this sequence
}

// attnCollector gathers Attention from the dense cache's weights.
type attnCollector struct {
	cfg    model.Config
	recent int
	minPos int
	n      int

	heads  []headAcc // layer*KVHeads + head
	layers []headAcc
	ret    [][]float64 // per layer: summed top-k mass, then (after) its prefix count
	full   [][]float64 // per layer: queries that keep everything from k on (difference array)
	nQuery int
	grid   []int
	sims   [][]*replay // per layer: grid × WindowShares, budget-major

	token, seen int
	group       []float32 // KVHeads × (token+1) sums of the current token
	pooled      []float32
	sorted      []float32
}

func newAttnCollector(c model.Config, longest int, opts Options) *attnCollector {
	a := &attnCollector{cfg: c, recent: opts.Recent,
		heads: make([]headAcc, c.Layers*c.KVHeads), layers: make([]headAcc, c.Layers),
		ret: make([][]float64, c.Layers), full: make([][]float64, c.Layers), token: -1,
		grid: budgetGrid(longest), sims: make([][]*replay, c.Layers)}
	for l := range a.ret {
		a.ret[l] = make([]float64, longest+1)
		a.full[l] = make([]float64, longest+2)
		for _, t := range a.grid {
			for _, share := range WindowShares {
				a.sims[l] = append(a.sims[l], newReplay(t, opts.Sink, opts.BlockSize, share))
			}
		}
	}
	return a
}

// start begins a sequence of n tokens.
func (a *attnCollector) start(n int) {
	a.n = n
	a.minPos = a.recent
	if n < 2*a.recent {
		a.minPos = n / 2
	}
	for i := range a.heads {
		a.heads[i].keys = resetKeys(a.heads[i].keys, n)
	}
	for i := range a.layers {
		a.layers[i].keys = resetKeys(a.layers[i].keys, n)
		for _, r := range a.sims[i] {
			r.reset()
		}
	}
	a.token, a.seen = -1, 0
}

// resetKeys returns k as n zeros.
func resetKeys(k []float64, n int) []float64 {
	k = slices.Grow(k[:0], n)[:n]
	clear(k)
	return k
}

// weights is the llama.DenseCache.Weights callback: one query head's
// weights over positions 0..token.
func (a *attnCollector) weights(layer, token, head int, w []float32) {
	c := a.cfg
	if token != a.token {
		a.token, a.seen = token, 0
		a.group = slices.Grow(a.group[:0], c.KVHeads*len(w))[:c.KVHeads*len(w)]
		clear(a.group)
	}
	kh := head / (c.Heads / c.KVHeads)
	g := a.group[kh*len(w) : (kh+1)*len(w)]
	for i, v := range w {
		g[i] += v
	}
	a.seen++
	if a.seen == c.Heads {
		a.query(layer, token, len(w))
	}
}

// query folds the finished token's weights into the statistics.
func (a *attnCollector) query(layer, token, n int) {
	c := a.cfg
	group := float32(c.Heads / c.KVHeads)
	a.pooled = slices.Grow(a.pooled[:0], n)[:n]
	clear(a.pooled)
	for kh := range c.KVHeads {
		g := a.group[kh*n : (kh+1)*n]
		for i := range g {
			g[i] /= group
			a.pooled[i] += g[i] / float32(c.KVHeads)
		}
		if token >= a.minPos {
			a.add(&a.heads[layer*c.KVHeads+kh], g)
		}
	}
	if token >= a.minPos {
		a.add(&a.layers[layer], a.pooled)
	}
	for _, r := range a.sims[layer] {
		r.query(a.pooled)
	}
	a.sort(a.pooled)
	ret := a.ret[layer]
	cum := 0.0
	for k, v := range a.sorted {
		cum += float64(v)
		ret[k+1] += cum
	}
	a.full[layer][n+1]++
	if layer == 0 {
		a.nQuery++
	}
}

// add folds one query's weights w into h.
func (a *attnCollector) add(h *headAcc, w []float32) {
	n := len(w)
	h.queries++
	h.seen += float64(n)
	h.first += float64(w[0])
	var recent, ent float64
	for i, v := range w {
		h.keys[i] += float64(v)
		if i >= n-a.recent {
			recent += float64(v)
		}
		if v > 0 {
			ent -= float64(v) * math.Log(float64(v))
		}
	}
	h.recent += recent
	h.entropy += ent
	a.sort(w)
	h.k90 += float64(cover(a.sorted, 0.9))
	h.k95 += float64(cover(a.sorted, 0.95))
}

// sort copies w into a.sorted in decreasing order.
func (a *attnCollector) sort(w []float32) {
	a.sorted = append(a.sorted[:0], w...)
	slices.Sort(a.sorted)
	slices.Reverse(a.sorted)
}

// cover is the number of leading values of the decreasing weights s that
// reach a mass of frac of their total.
func cover(s []float32, frac float64) int {
	total := 0.0
	for _, v := range s {
		total += float64(v)
	}
	cum := 0.0
	for i, v := range s {
		cum += float64(v)
		if cum >= frac*total {
			return i + 1
		}
	}
	return len(s)
}

// finish ends a sequence whose massive-activation tokens are at the given
// positions.
func (a *attnCollector) finish(massive []int) {
	for _, accs := range [][]headAcc{a.heads, a.layers} {
		for i := range accs {
			for _, p := range massive {
				accs[i].massive += accs[i].keys[p]
			}
		}
	}
}

// result assembles the Attention.
func (a *attnCollector) result() *Attention {
	c := a.cfg
	r := &Attention{Recent: a.recent}
	for l := range c.Layers {
		for kh := range c.KVHeads {
			r.Heads = append(r.Heads, a.heads[l*c.KVHeads+kh].stats(l, kh))
		}
		la := LayerAttention{HeadStats: a.layers[l].stats(l, -1), Retained: make([]float64, len(a.ret[l]))}
		full := 0.0
		for k := range la.Retained {
			full += a.full[l][k]
			if a.nQuery > 0 {
				la.Retained[k] = (a.ret[l][k] + full) / float64(a.nQuery)
			}
		}
		for _, s := range a.sims[l] {
			la.Policy = append(la.Policy, PolicyPoint{Budget: s.lb.Budget(), Window: s.lb.Window, Retained: s.retained / float64(max(a.nQuery, 1))})
		}
		r.Layers = append(r.Layers, la)
	}
	return r
}

// stats turns the sums into means.
func (h *headAcc) stats(layer, head int) HeadStats {
	s := HeadStats{Layer: layer, Head: head, Queries: h.queries}
	if q := float64(h.queries); q > 0 {
		s.First, s.Massive, s.Recent, s.Entropy = h.first/q, h.massive/q, h.recent/q, h.entropy/q
		s.Keys90, s.Keys95, s.Seen = h.k90/q, h.k95/q, h.seen/q
	}
	return s
}
