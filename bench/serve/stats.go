package serve

import (
	"math"
	"slices"
	"time"
)

// Dist summarises a latency distribution in milliseconds: the mean and
// the 50th, 90th and 99th percentiles.
type Dist struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	N    int     `json:"n"` // how many values it summarises
}

// distOf summarises durations; an empty list gives all zeros.
func distOf(ds []time.Duration) Dist {
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
	}
	return distOfMS(ms)
}

// distOfMS summarises values already in milliseconds.
func distOfMS(ms []float64) Dist {
	if len(ms) == 0 {
		return Dist{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return Dist{
		Mean: sum / float64(len(s)),
		P50:  percentile(s, 50),
		P90:  percentile(s, 90),
		P99:  percentile(s, 99),
		N:    len(s),
	}
}

// percentile is the p-th percentile (0–100) of sorted values, linearly
// interpolated between the two nearest ranks (numpy's default, which
// vLLM's serving benchmark reports).
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(sorted)-1)
	frac := rank - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}
