package sparsity

import (
	"fmt"
	"slices"
)

// Keep chooses the slots a layer keeps and returns their indices in
// increasing order, appended to dst[:0] (pass the previous result back to
// make it allocation-free).
//
// positions are the slots' true positions in cache order (strictly
// increasing) and scores their scores (nil when the layer has none). A
// dense layer, or one holding at most lb.Budget() slots, keeps every slot.
// Otherwise exactly lb.Budget() slots are kept:
//
//   - the sinks: slots at positions below lb.Sink;
//   - the window: the lb.Window most recent slots;
//   - the rest of the budget, from the slots in between, by highest score,
//     the earlier slot first on ties, a NaN score lowest.
//
// When lb.Heavy is 0 or scores is nil, the rest goes to the most recent
// slots instead, widening the window (this happens when fewer sink slots
// are present than lb.Sink).
func Keep(dst []int, positions []int32, scores []float32, lb LayerBudget) []int {
	n := len(positions)
	budget := lb.Budget()
	dst = dst[:0]
	if lb.Dense || n <= budget {
		for i := range n {
			dst = append(dst, i)
		}
		return dst
	}
	s := 0
	for s < n && positions[s] < int32(lb.Sink) {
		s++
	}
	w := min(lb.Window, n-s)
	k := budget - s - w // n > budget, so k < n - s - w
	if lb.Heavy == 0 || scores == nil {
		w, k = w+k, 0
	} else if len(scores) != n {
		panic(fmt.Sprintf("sparsity: Keep: %d scores for %d slots", len(scores), n))
	}
	for i := range s {
		dst = append(dst, i)
	}
	if k > 0 {
		dst = slices.Grow(dst, k)[:s+k]
		topK(dst[s:], scores, s, n-w)
		slices.Sort(dst[s:])
	}
	for i := n - w; i < n; i++ {
		dst = append(dst, i)
	}
	return dst
}

// topK fills h with the indices in [lo, hi) of the len(h) best scores, in
// no particular order, using h as a heap whose root is the worst kept slot.
func topK(h []int, scores []float32, lo, hi int) {
	k := len(h)
	for i := range h {
		h[i] = lo + i
	}
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i, scores)
	}
	for i := lo + k; i < hi; i++ {
		if better(i, h[0], scores) {
			h[0] = i
			siftDown(h, 0, scores)
		}
	}
}

// siftDown restores the heap property below h[i]: every parent is worse than
// its children.
func siftDown(h []int, i int, scores []float32) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && better(h[c], h[c+1], scores) {
			c++
		}
		if !better(h[i], h[c], scores) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// better reports whether slot a ranks above slot b: a higher score, or an
// equal one at an earlier slot. NaN ranks below every number, -Inf included.
func better(a, b int, scores []float32) bool {
	sa, sb := scores[a], scores[b]
	switch {
	case sa > sb:
		return true
	case sa < sb:
		return false
	}
	if an, bn := sa != sa, sb != sb; an != bn {
		return bn
	}
	return a < b
}
