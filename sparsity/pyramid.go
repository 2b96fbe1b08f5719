package sparsity

import (
	"math"
	"slices"
)

// pyramidBudgets returns per-layer token budgets that fall linearly from the
// lowest layer to the top one and sum to exactly layers*b (PyramidKV).
//
// The top layer gets top = max(floor, ceil(frac*b)), floor being the
// protected sink + window, and the lowest layer 2b - top, so the mean is b.
// Layer l's exact share, bottom - (bottom-top)*l/(layers-1), is rounded down
// and the tokens left over go one each to the layers with the largest
// fractional parts, lower layers first on ties, which keeps the sequence
// non-increasing. When floor > b every layer gets b (the caller clamps).
func pyramidBudgets(layers, b, floor int, frac float64) []int {
	out := make([]int, layers)
	top := max(floor, int(math.Ceil(frac*float64(b))))
	if layers == 1 || top >= b {
		for i := range out {
			out[i] = b
		}
		return out
	}
	bottom := 2*b - top
	d := layers - 1
	rem := make([]int, layers) // numerators of the fractional parts, over d
	sum := 0
	for l := range out {
		num := (bottom - top) * (d - l)
		out[l] = top + num/d
		rem[l] = num % d
		sum += out[l]
	}
	order := make([]int, layers)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return rem[y] - rem[x] })
	for _, l := range order[:layers*b-sum] {
		out[l]++
	}
	return out
}
