package eval

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteNeedleTable prints needle results as a table: one row per policy
// and budget, one column per prompt length with the prompts retrieved and,
// in parentheses, that count relative to full's at the length, and a last
// column relative to full over all lengths. results[0] must be full's.
func WriteNeedleTable(w io.Writer, lengths []int, results []NeedleResult) error {
	if len(results) == 0 {
		return nil
	}
	full := results[0].ByLength(lengths)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "policy\tbudget\t")
	for _, c := range full {
		fmt.Fprintf(tw, "~%.0f tokens\t", c.Tokens)
	}
	fmt.Fprintln(tw, "vs full\t")
	for _, r := range results {
		budget := "-"
		if r.Budget != 0 {
			budget = fmt.Sprint(r.Budget)
		}
		fmt.Fprintf(tw, "%s\t%s\t", r.Policy, budget)
		got, ref := 0, 0
		for i, c := range r.ByLength(lengths) {
			fmt.Fprintf(tw, "%d/%d (%s)\t", c.Retrieved, c.Prompts, relative(c.Retrieved, full[i].Retrieved))
			got += c.Retrieved
			ref += full[i].Retrieved
		}
		fmt.Fprintf(tw, "%s\t\n", relative(got, ref))
	}
	return tw.Flush()
}

// relative formats got as a percentage of ref.
func relative(got, ref int) string {
	if ref == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(got)/float64(ref))
}
