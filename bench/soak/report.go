package soak

import (
	"fmt"
	"io"
)

// Write prints a report as text.
func Write(w io.Writer, r Report) error {
	mib := func(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
	fmt.Fprintf(w, "soak of %s: %.0fs, %d clients, %d requests (%.1f/s)\n", r.URL, r.DurationS, r.Concurrency, r.Requests,
		float64(r.Requests)/max(r.DurationS, 1e-9))
	fmt.Fprintf(w, "outcomes: %s\n", outcomeList(r.Outcomes))
	fmt.Fprintf(w, "latency of full answers: p50 %.1f ms, p99 %.1f ms\n", r.LatencyP50Ms, r.LatencyP99Ms)
	fmt.Fprintf(w, "%-16s %12s %12s\n", "", "before", "after drain")
	fmt.Fprintf(w, "%-16s %12.0f %12.0f\n", "goroutines", r.Before.Goroutines, r.After.Goroutines)
	fmt.Fprintf(w, "%-16s %12s %12s\n", "heap", mib(r.Before.HeapBytes), mib(r.After.HeapBytes))
	fmt.Fprintf(w, "%-16s %12s %12s\n", "RSS", mib(r.Before.RSSBytes), mib(r.After.RSSBytes))
	fmt.Fprintf(w, "%-16s %12.0f %12.0f\n", "KV blocks used", r.Before.KVBlocksUsed, r.After.KVBlocksUsed)
	fmt.Fprintf(w, "drained in %.1fs\n", r.DrainS)
	for _, f := range r.FailureSamples {
		fmt.Fprintf(w, "failure: %s\n", f)
	}
	if r.Passed() {
		_, err := fmt.Fprintln(w, "PASS: the server drained with every block free and its goroutines at baseline")
		return err
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "FAIL: %s\n", p)
	}
	return nil
}
