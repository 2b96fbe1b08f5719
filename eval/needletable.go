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
	return writeNeedleTable(w, results, func(r NeedleResult) []NeedleCell { return r.ByLength(lengths) },
		func(c NeedleCell) string { return fmt.Sprintf("~%.0f tokens", c.Tokens) })
}

// WriteMultiTurnNeedleTable prints multi-turn needle results as
// WriteNeedleTable does, with a column per turn that asks for the fact
// instead of per length. results[0] must be full's.
func WriteMultiTurnNeedleTable(w io.Writer, turns int, results []NeedleResult) error {
	return writeNeedleTable(w, results, func(r NeedleResult) []NeedleCell { return r.ByTurn(turns) },
		func(c NeedleCell) string { return fmt.Sprintf("turn %d (~%.0f tokens)", c.Turn, c.Tokens) })
}

// writeNeedleTable prints the table of WriteNeedleTable with the columns
// that columns groups a result's cells into, headed by head of full's.
func writeNeedleTable(w io.Writer, results []NeedleResult, columns func(NeedleResult) []NeedleCell, head func(NeedleCell) string) error {
	if len(results) == 0 {
		return nil
	}
	full := columns(results[0])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "policy\tbudget\t")
	for _, c := range full {
		fmt.Fprintf(tw, "%s\t", head(c))
	}
	fmt.Fprintln(tw, "vs full\t")
	for _, r := range results {
		budget := "-"
		if r.Budget != 0 {
			budget = fmt.Sprint(r.Budget)
		}
		fmt.Fprintf(tw, "%s\t%s\t", r.Policy, budget)
		got, ref := 0, 0
		for i, c := range columns(r) {
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
