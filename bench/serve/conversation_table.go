package serve

import (
	"fmt"
	"io"
	"strings"
)

// WriteConversationReport prints one multi-turn run: its totals, then a
// row per turn with TTFT percentiles in seconds and the cached share.
func WriteConversationReport(w io.Writer, r ConversationResult) error {
	line := reportLine(w)
	fmt.Fprintf(w, "============ Multi-turn Benchmark Result: %s ============\n", r.Label)
	line("Model", r.Model)
	line("Conversations x turns", fmt.Sprintf("%d x %d", r.Conversations, r.Turns))
	line("New words per turn", r.TurnLen)
	line("Answer tokens per turn", r.OutputLen)
	line("Shared prefix (words)", r.PrefixLen)
	writeTotals(line, r.Result)
	fmt.Fprintf(w, "%5s %5s %5s %11s %13s %13s %8s\n", "turn", "ok", "fail", "prompt tok", "TTFT p50 (s)", "TTFT p99 (s)", "cached")
	for _, t := range r.PerTurn {
		_, err := fmt.Fprintf(w, "%5d %5d %5d %11.0f %13.3f %13.3f %8s\n",
			t.Turn, t.Completed, t.Failed, t.PromptTokens, t.TTFTP50S, t.TTFTP99S, shareString(t.Share))
		if err != nil {
			return err
		}
	}
	for _, e := range r.TopErrors(5) {
		fmt.Fprintf(w, "failure: %s\n", e)
	}
	return nil
}

// WriteConversationTable prints several multi-turn runs side by side, one
// row each: total time, output throughput, cached share and each turn's
// TTFT p50 in seconds.
func WriteConversationTable(w io.Writer, rs []ConversationResult) error {
	turns := 0
	for _, r := range rs {
		turns = max(turns, len(r.PerTurn))
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%-24s %5s %5s %9s %10s %8s", "label", "ok", "fail", "total s", "out tok/s", "cached")
	for t := range turns {
		fmt.Fprintf(&head, " %7s", fmt.Sprintf("t%d p50", t+1))
	}
	fmt.Fprintln(w, head.String())
	for _, r := range rs {
		var row strings.Builder
		fmt.Fprintf(&row, "%-24s %5d %5d %9.2f %10.1f %8s", r.Label, r.Completed, r.Failed, r.DurationS, r.OutputTokS, shareString(r.Share))
		for _, t := range r.PerTurn {
			fmt.Fprintf(&row, " %7.3f", t.TTFTP50S)
		}
		if _, err := fmt.Fprintln(w, row.String()); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, "TTFT in seconds")
	return err
}
