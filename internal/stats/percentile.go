// Package stats holds the summary statistics that Sieve's benchmarks
// report, so that every command computes a percentile the same way.
package stats

import (
	"math"
	"slices"
)

// Percentile returns the p-th percentile (0–100) of xs, linearly
// interpolated between the two nearest ranks: the value at rank
// p/100·(n−1) of the sorted values (numpy.percentile's default, which
// vLLM's benchmarks report). xs need not be sorted and is not changed; an
// empty xs gives 0, and p outside [0, 100] is clamped.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := min(max(p, 0), 100) / 100 * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (rank-float64(lo))*(s[hi]-s[lo])
}

// Median is Percentile(xs, 50): the middle value, or the mean of the two
// middle values of an even count.
func Median(xs []float64) float64 { return Percentile(xs, 50) }
