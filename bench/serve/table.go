package serve

import (
	"fmt"
	"io"
	"strconv"
)

// WriteReport prints one run in detail, like vLLM's serving benchmark.
func WriteReport(w io.Writer, r Result) error {
	line := reportLine(w)
	fmt.Fprintf(w, "============ Serving Benchmark Result: %s ============\n", r.Label)
	line("Model", r.Model)
	line("Request rate (req/s)", rateString(r.RequestRate))
	line("Max concurrency", concurrencyString(r.MaxConcurrency))
	writeTotals(line, r)
	line("Request throughput (req/s)", fmt.Sprintf("%.2f", r.RequestTput))
	line("Total token throughput (tok/s)", fmt.Sprintf("%.2f", r.TotalTokS))
	for _, d := range []struct {
		name string
		d    Dist
	}{{"TTFT", r.TTFT}, {"TPOT", r.TPOT}, {"ITL", r.ITL}, {"E2E latency", r.E2E}} {
		_, err := fmt.Fprintf(w, "%-12s (ms)  mean %9.2f  p50 %9.2f  p90 %9.2f  p99 %9.2f\n", d.name, d.d.Mean, d.d.P50, d.d.P90, d.d.P99)
		if err != nil {
			return err
		}
	}
	for _, e := range r.TopErrors(5) {
		fmt.Fprintf(w, "failure: %s\n", e)
	}
	return nil
}

// reportLine returns a printer of "name: value" lines on w.
func reportLine(w io.Writer) func(name string, v any) {
	return func(name string, v any) { fmt.Fprintf(w, "%-36s %v\n", name+":", v) }
}

// writeTotals prints the totals every report shows.
func writeTotals(line func(string, any), r Result) {
	line("Successful requests", r.Completed)
	line("Failed requests", r.Failed)
	line("Benchmark duration (s)", fmt.Sprintf("%.2f", r.DurationS))
	line("Total input tokens", r.InputTokens)
	line("Total generated tokens", r.OutputTokens)
	line("Output token throughput (tok/s)", fmt.Sprintf("%.2f", r.OutputTokS))
	line("Prompt tokens from cache", r.CacheUse)
	if r.Share != nil {
		line("Prompt tokens computed", r.InputTokens-r.Tokens)
	}
}

// WriteTable prints several runs side by side, one row each.
func WriteTable(w io.Writer, rs []Result) error {
	fmt.Fprintf(w, "%-24s %6s %5s %5s %5s %8s %10s %9s %9s %9s %9s %9s %9s %9s %7s\n",
		"label", "rate", "conc", "ok", "fail", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "ITL p99", "E2E p50", "E2E p99", "cached")
	for _, r := range rs {
		_, err := fmt.Fprintf(w, "%-24s %6s %5s %5d %5d %8.2f %10.1f %9.1f %9.1f %9.2f %9.2f %9.2f %9.1f %9.1f %7s\n",
			r.Label, rateString(r.RequestRate), concurrencyString(r.MaxConcurrency), r.Completed, r.Failed, r.RequestTput, r.OutputTokS,
			r.TTFT.P50, r.TTFT.P99, r.TPOT.P50, r.TPOT.P99, r.ITL.P99, r.E2E.P50, r.E2E.P99, shareString(r.CacheUse.Share))
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "latencies in ms")
	return nil
}

// shareString formats a cached share as a percentage, or "n/a".
func shareString(s *float64) string {
	if s == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100**s)
}

func rateString(r float64) string {
	if r == 0 {
		return "inf"
	}
	return strconv.FormatFloat(r, 'g', 4, 64)
}

func concurrencyString(c int) string {
	if c == 0 {
		return "-"
	}
	return strconv.Itoa(c)
}
