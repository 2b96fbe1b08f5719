package sparsity

import (
	"math"
	"slices"
)

// pyramidBudgets returns per-layer token budgets that fall linearly from the
// lowest layer to the top one (PyramidKV), none over capacity (what a layer
// can hold: the request's tokens) and summing to exactly layers*b when
// that fits (layers*capacity otherwise).
//
// The top layer's share is top = max(floor, ceil(frac*b)), floor being the
// protected sink + window, and the lowest layer's 2b - top, so the mean is
// b; the shares are then fitted to capacity by fill, which hands what the
// lowest layers cannot hold to the others. When floor > b every layer gets
// b (the caller clamps).
func pyramidBudgets(layers, b, floor int, frac float64, capacity int) []int {
	top := max(floor, int(math.Ceil(frac*float64(b))))
	if layers == 1 || top >= b {
		top = b
	}
	bottom := 2*b - top
	shares := make([]float64, layers)
	for l := range shares {
		shares[l] = float64(bottom)
		if layers > 1 {
			shares[l] -= float64(bottom-top) * float64(l) / float64(layers-1)
		}
	}
	return fill(shares, layers*b, capacity)
}

// fill divides total tokens among layers in proportion to weights (all
// positive), none over capacity: a layer whose share exceeds capacity gets
// capacity and the rest is divided again among the others, until every
// share fits (or every layer is full). Shares are rounded down and the
// tokens left over go one each to the layers with the largest fractional
// parts, lower layers first on ties, so the result sums to min(total,
// len(weights)*capacity) and non-increasing weights give non-increasing
// budgets.
func fill(weights []float64, total, capacity int) []int {
	n := len(weights)
	out := make([]int, n)
	if n*capacity <= total {
		for i := range out {
			out[i] = capacity
		}
		return out
	}
	capped := make([]bool, n)
	share := make([]float64, n)
	for {
		rest, w := float64(total), 0.0
		for i, c := range capped {
			if c {
				rest -= float64(capacity)
			} else {
				w += weights[i]
			}
		}
		over := false
		for i, c := range capped {
			if c {
				share[i] = float64(capacity)
				continue
			}
			share[i] = rest * weights[i] / w
			if share[i] > float64(capacity) {
				capped[i], over = true, true
			}
		}
		if !over {
			break
		}
	}
	sum := 0
	for i, s := range share {
		out[i] = min(capacity, int(s))
		sum += out[i]
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	frac := func(i int) float64 { return share[i] - float64(out[i]) }
	slices.SortStableFunc(order, func(x, y int) int {
		switch fx, fy := frac(x), frac(y); {
		case fx > fy:
			return -1
		case fx < fy:
			return 1
		}
		return 0
	})
	for _, i := range order {
		if sum >= total {
			break
		}
		if out[i] < capacity {
			out[i]++
			sum++
		}
	}
	return out
}
