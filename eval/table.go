package eval

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints results as an aligned table, one row per result.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tbudget\ttokens\tppl\tppl full\tΔppl\tKL (nats)\ttop-1\tgreedy top-1\t")
	for _, r := range results {
		greedy := "-"
		if r.GreedyPositions > 0 {
			greedy = fmt.Sprintf("%.3f", r.GreedyAgreement)
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%.4f\t%.4f\t%+.2f%%\t%.5f\t%.3f\t%s\t\n",
			r.Policy, r.Budget, r.BudgetTokens, r.PPL, r.PPLFull, 100*r.PPLIncrease, r.KL, r.Top1Agreement, greedy)
	}
	return tw.Flush()
}
