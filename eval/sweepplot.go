package eval

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"sieve/internal/figure"
)

// WritePlot writes dir/EVAL.svg and dir/EVAL.png (EVAL being s.Eval),
// creating dir when missing: the metric against the budget, one line per
// policy (and mode), full as a dashed level. Budgets are evenly spaced
// whatever their values, so that fractions and token counts can share an
// axis.
func (s Sweep) WritePlot(dir string) error {
	var budgets []float64
	for _, r := range s.Rows {
		if r.Budget != 0 && !slices.Contains(budgets, r.Budget) {
			budgets = append(budgets, r.Budget)
		}
	}
	slices.Sort(budgets)
	p := plot.New()
	p.Title.Text = s.Eval
	p.X.Label.Text, p.Y.Label.Text = "budget", s.Metric
	var ticks plot.ConstantTicks
	for i, b := range budgets {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: fmt.Sprint(b)})
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = -0.25, float64(max(1, len(budgets)))-0.75
	p.Legend.Top = s.LowerIsBetter // lines fall (or rise) towards the right
	if s.Title != "" {
		p.Title.Text += ", " + s.Title
	}
	type line struct {
		name string
		xys  plotter.XYs
	}
	var lines []*line
	full := -1.0
	for _, r := range s.Rows {
		if r.Budget == 0 {
			if r.Mode == "" {
				full = r.Score
			}
			continue
		}
		name := r.Policy
		if r.Mode != "" {
			name += " (" + r.Mode + ")"
		}
		i := slices.IndexFunc(lines, func(l *line) bool { return l.name == name })
		if i < 0 {
			lines = append(lines, &line{name: name})
			i = len(lines) - 1
		}
		lines[i].xys = append(lines[i].xys, plotter.XY{X: float64(slices.Index(budgets, r.Budget)), Y: r.Score})
	}
	if full >= 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: full}, {X: p.X.Max, Y: full}})
		if err != nil {
			return fmt.Errorf("eval: plot: %w", err)
		}
		l.Color = color.Gray{Y: 96}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add("full", l)
	}
	for i, l := range lines {
		lp, pts, err := plotter.NewLinePoints(l.xys)
		if err != nil {
			return fmt.Errorf("eval: plot: %w", err)
		}
		lp.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		p.Add(lp, pts)
		p.Legend.Add(l.name, lp, pts)
	}
	if _, err := figure.Save(filepath.Join(dir, s.Eval), [][]*plot.Plot{{p}}, 5*vg.Inch, 3.5*vg.Inch); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}
