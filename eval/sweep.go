package eval

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Sweep is one evaluation over policies and budgets, scored by one metric:
// a row per policy and budget, full's first. Every eval command prints
// one, as a table, as JSON and as a plot.
type Sweep struct {
	// Eval names the evaluation ("ppl", "divergence", "ruler", ...).
	Eval string `json:"eval"`
	// Title says what ran (the model), for the plot.
	Title string `json:"title,omitempty"`
	// Metric names the score ("ppl", "exact match", ...).
	Metric string `json:"metric"`
	// LowerIsBetter is set for metrics such as perplexity.
	LowerIsBetter bool `json:"lower_is_better"`
	// Columns name the extra values each row carries, in order.
	Columns []string `json:"columns,omitempty"`
	// Rows are the results, full's first.
	Rows []SweepRow `json:"rows"`
}

// SweepRow is the score of one policy at one budget.
type SweepRow struct {
	Policy string `json:"policy"`
	// Budget is the budget the policy ran at (0 for full).
	Budget float64 `json:"budget"`
	// Mode tells apart runs of one policy and budget that differ otherwise
	// ("question-aware"); empty for the default.
	Mode string `json:"mode,omitempty"`
	// Score is the metric; Full is full's score on the same inputs.
	Score float64 `json:"score"`
	Full  float64 `json:"full"`
	// Loss is the loss relative to full, positive when worse: Score/Full−1
	// for a metric where lower is better, 1−Score/Full otherwise (0 when
	// Full is 0).
	Loss float64 `json:"relative_loss"`
	// Values are the row's extra values, one per Sweep.Columns.
	Values []float64 `json:"values,omitempty"`
}

// Add appends a row with score and its loss against full.
func (s *Sweep) Add(policy string, budget float64, mode string, score, full float64, values ...float64) {
	s.Rows = append(s.Rows, SweepRow{
		Policy: policy, Budget: budget, Mode: mode,
		Score: score, Full: full, Loss: RelativeLoss(score, full, s.LowerIsBetter),
		Values: values,
	})
}

// RelativeLoss is score's loss against full, positive when score is worse:
// score/full − 1 when lower is better, 1 − score/full otherwise; 0 when
// full is 0.
func RelativeLoss(score, full float64, lowerIsBetter bool) float64 {
	if full == 0 {
		return 0
	}
	if lowerIsBetter {
		return score/full - 1
	}
	return 1 - score/full
}

// WriteTable prints the sweep as an aligned table: policy, budget, mode
// (when any row has one), the metric, full's, the loss against full and
// the extra columns.
func (s Sweep) WriteTable(w io.Writer) error {
	modes := false
	for _, r := range s.Rows {
		modes = modes || r.Mode != ""
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "policy\tbudget\t")
	if modes {
		fmt.Fprint(tw, "mode\t")
	}
	fmt.Fprintf(tw, "%s\tfull\tloss vs full\t", s.Metric)
	for _, c := range s.Columns {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprintln(tw)
	for _, r := range s.Rows {
		budget := "-"
		if r.Budget != 0 {
			budget = fmt.Sprint(r.Budget)
		}
		fmt.Fprintf(tw, "%s\t%s\t", r.Policy, budget)
		if modes {
			mode := r.Mode
			if mode == "" {
				mode = "-"
			}
			fmt.Fprintf(tw, "%s\t", mode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%+.2f%%\t", formatValue(r.Score), formatValue(r.Full), 100*r.Loss)
		for _, v := range r.Values {
			fmt.Fprintf(tw, "%s\t", formatValue(v))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// formatValue prints a value with four significant decimals, whole
// numbers without any.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4f", v)
}
