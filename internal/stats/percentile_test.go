package stats

import (
	"math"
	"slices"
	"testing"
)

func TestPercentile(t *testing.T) {
	// Worked by hand: the rank is p/100·(n−1) in the sorted values, and a
	// fractional rank interpolates between its two neighbours.
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{name: "empty", xs: nil, p: 50, want: 0},
		{name: "one value", xs: []float64{10}, p: 99, want: 10},
		{name: "odd median is the middle", xs: []float64{50, 15, 40, 20, 35}, p: 50, want: 35},
		{name: "even median is the mean of the middle two", xs: []float64{4, 1, 3, 2}, p: 50, want: 2.5},
		{name: "p90 of four: rank 2.7, 3 + 0.7·(4 − 3)", xs: []float64{4, 1, 3, 2}, p: 90, want: 3.7},
		{name: "p99 of four: rank 2.97", xs: []float64{4, 1, 3, 2}, p: 99, want: 3.97},
		{name: "p90 of five: rank 3.6, 40 + 0.6·(50 − 40)", xs: []float64{50, 15, 40, 20, 35}, p: 90, want: 46},
		{name: "p0 is the minimum", xs: []float64{3, -1, 2}, p: 0, want: -1},
		{name: "p100 is the maximum", xs: []float64{3, -1, 2}, p: 100, want: 3},
		{name: "p over 100 clamps", xs: []float64{3, -1, 2}, p: 150, want: 3},
		{name: "negative p clamps", xs: []float64{3, -1, 2}, p: -5, want: -1},
		{name: "ties", xs: []float64{7, 7, 7, 1}, p: 25, want: 5.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			if got := Percentile(tc.xs, tc.p); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.xs, tc.p, got, tc.want)
			}
			if !slices.Equal(in, tc.xs) {
				t.Errorf("Percentile reordered its input to %v", tc.xs)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{2}, 2},
		{[]float64{9, 1, 5}, 5},
		{[]float64{9, 1, 5, 3}, 4},
	}
	for _, tc := range tests {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}
