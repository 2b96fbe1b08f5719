package bench

import (
	"fmt"
	"io"
	"strconv"
)

// WriteThroughputTable prints a report as a side-by-side table, with the
// output throughput and TTFT p50 of each policy as ratios to the first.
func WriteThroughputTable(w io.Writer, rep ThroughputReport) error {
	c := rep.Config
	if _, err := fmt.Fprintf(w, "model %s, %d threads, %d requests × %d in + %d out, KV pool %d MiB (%d blocks of %d), %d repeats (medians)\n",
		rep.Model, rep.Threads, c.Requests, c.InputLen, c.OutputLen, rep.KVMiB, rep.KVBlocks, rep.BlockSize, c.Repeats); err != nil {
		return err
	}
	fmt.Fprintf(w, "%-8s %7s %10s %11s %9s %9s %10s %11s %8s %10s %9s %10s\n",
		"policy", "budget", "out tok/s", "total tok/s", "TTFT p50", "TTFT p99", "mean batch", "peak blocks", "preempt", "recomputed", "out ratio", "TTFT ratio")
	var base ThroughputRun
	for i, r := range rep.Results {
		if i == 0 {
			base = r.ThroughputRun
		}
		budget := "-"
		if r.Budget != 0 {
			budget = strconv.FormatFloat(r.Budget, 'g', -1, 64)
		}
		_, err := fmt.Fprintf(w, "%-8s %7s %10.1f %11.1f %8.2fs %8.2fs %10.2f %11d %8d %10d %8.2fx %9.2fx\n",
			r.Policy, budget, r.OutputTokS, r.TotalTokS, r.TTFTP50S, r.TTFTP99S, r.MeanBatch, r.PeakKVBlocks,
			r.Preemptions, r.RecomputedTokens, ratio(r.OutputTokS, base.OutputTokS), ratio(r.TTFTP50S, base.TTFTP50S))
		if err != nil {
			return err
		}
	}
	return nil
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
