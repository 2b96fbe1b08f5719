package serve

import (
	"math"
	"testing"
	"time"
)

func TestDistMatchesHandComputedPercentiles(t *testing.T) {
	tests := []struct {
		in   []float64
		want Dist
	}{
		// Linear interpolation between ranks, as numpy.percentile:
		// rank p/100*(n-1); [1 2 3 4] at p90 is 3 + 0.7*(4-3).
		{[]float64{4, 1, 3, 2}, Dist{Mean: 2.5, P50: 2.5, P90: 3.7, P99: 3.97, N: 4}},
		{[]float64{50, 15, 40, 20, 35}, Dist{Mean: 32, P50: 35, P90: 46, P99: 49.6, N: 5}},
		{[]float64{10}, Dist{Mean: 10, P50: 10, P90: 10, P99: 10, N: 1}},
		{nil, Dist{}},
	}
	for _, tc := range tests {
		got := distOfMS(tc.in)
		for _, f := range []struct {
			name      string
			got, want float64
		}{{"mean", got.Mean, tc.want.Mean}, {"p50", got.P50, tc.want.P50}, {"p90", got.P90, tc.want.P90}, {"p99", got.P99, tc.want.P99}} {
			if math.Abs(f.got-f.want) > 1e-9 {
				t.Errorf("%v: %s = %g, want %g", tc.in, f.name, f.got, f.want)
			}
		}
		if got.N != tc.want.N {
			t.Errorf("%v: n = %d, want %d", tc.in, got.N, tc.want.N)
		}
	}
}

func TestSummarizeCountsOnlySuccesses(t *testing.T) {
	ms := []Measurement{
		{TTFT: 100 * time.Millisecond, Latency: 1100 * time.Millisecond, PromptTokens: 10, OutputTokens: 11,
			ITL: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
		{TTFT: 300 * time.Millisecond, Latency: 300 * time.Millisecond, PromptTokens: 20, OutputTokens: 1},
		{Err: "HTTP 429: busy"},
		{Err: "HTTP 429: busy"},
	}
	r := Summarize(ms, 2*time.Second)
	if r.Completed != 2 || r.Failed != 2 || r.Errors["HTTP 429: busy"] != 2 {
		t.Fatalf("completed %d failed %d errors %v", r.Completed, r.Failed, r.Errors)
	}
	if r.InputTokens != 30 || r.OutputTokens != 12 {
		t.Errorf("tokens in %d out %d, want 30 and 12", r.InputTokens, r.OutputTokens)
	}
	if r.RequestTput != 1 || r.OutputTokS != 6 || r.TotalTokS != 21 {
		t.Errorf("throughputs %g req/s, %g out tok/s, %g tok/s; want 1, 6, 21", r.RequestTput, r.OutputTokS, r.TotalTokS)
	}
	// TPOT is (1100 - 100) / (11 - 1) ms; the one-token request has none.
	if r.TPOT.N != 1 || r.TPOT.Mean != 100 {
		t.Errorf("TPOT %+v, want one value of 100 ms", r.TPOT)
	}
	if r.TTFT.Mean != 200 || r.E2E.P50 != 700 || r.ITL.N != 2 {
		t.Errorf("TTFT %+v, E2E %+v, ITL %+v", r.TTFT, r.E2E, r.ITL)
	}
}

func TestArrivals(t *testing.T) {
	for _, d := range Arrivals(5, math.Inf(1), 1) {
		if d != 0 {
			t.Fatalf("infinite rate: arrivals %v, want all zero", d)
		}
	}
	// A Poisson process of rate 4: the mean gap of 20000 draws is 250 ms
	// within a few percent (the seed fixes the draws).
	const n, rate = 20001, 4.0
	at := Arrivals(n, rate, 7)
	if at[0] != 0 {
		t.Fatalf("first arrival at %v", at[0])
	}
	for i := 1; i < n; i++ {
		if at[i] < at[i-1] {
			t.Fatalf("arrivals go back in time at %d", i)
		}
	}
	mean := at[n-1].Seconds() / (n - 1)
	if math.Abs(mean-1/rate) > 0.03/rate {
		t.Errorf("mean gap %.4fs, want %.4fs", mean, 1/rate)
	}
}

func TestParseRangeAndSweep(t *testing.T) {
	for in, want := range map[string]Range{"128": {128, 128}, "64:256": {64, 256}, " 3 : 3 ": {3, 3}} {
		if got, err := ParseRange(in); err != nil || got != want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "9:3", "a", "1:x", "-2"} {
		if _, err := ParseRange(in); err == nil {
			t.Errorf("ParseRange(%q) accepted", in)
		}
	}
	sw, err := ParseSweep("concurrency=1,2,8")
	if err != nil || sw.Knob != "concurrency" || len(sw.Values) != 3 || sw.Apply(Load{}, 8).MaxConcurrency != 8 {
		t.Errorf("ParseSweep concurrency: %+v, %v", sw, err)
	}
	sw, err = ParseSweep("rate=0.5,inf")
	if err != nil || !math.IsInf(sw.Apply(Load{}, sw.Values[1]).RequestRate, 1) {
		t.Errorf("ParseSweep rate: %+v, %v", sw, err)
	}
	for _, in := range []string{"concurrency=1.5", "rate=0", "speed=1", "concurrency=inf", "rate=x"} {
		if _, err := ParseSweep(in); err == nil {
			t.Errorf("ParseSweep(%q) accepted", in)
		}
	}
}
