package serve

import (
	"time"

	"sieve/internal/stats"
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

// distOfMS summarises values already in milliseconds, with the
// percentiles of stats.Percentile.
func distOfMS(ms []float64) Dist {
	if len(ms) == 0 {
		return Dist{}
	}
	sum := 0.0
	for _, v := range ms {
		sum += v
	}
	return Dist{
		Mean: sum / float64(len(ms)),
		P50:  stats.Percentile(ms, 50),
		P90:  stats.Percentile(ms, 90),
		P99:  stats.Percentile(ms, 99),
		N:    len(ms),
	}
}
