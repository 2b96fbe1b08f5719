package eval

import (
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"sieve/internal/figure"
)

// WriteNeedleHeatmap writes dir/needle.svg and dir/needle.png (creating
// dir when missing): for full and for each policy and budget, a heatmap
// of the share of prompts retrieved per (length, depth), one row of panels
// per policy (full alone on the first), one column per budget. results
// must be as Needles returns them.
func WriteNeedleHeatmap(dir string, cfg NeedleConfig, results []NeedleResult) error {
	return writeNeedleHeatmap(dir, "needle", needleAxes{cfg.Depths, cfg.Lengths, "prompt tokens"}, len(cfg.Budgets), results)
}

// WriteMultiTurnNeedleHeatmap writes dir/needle-turns.svg and
// dir/needle-turns.png, the heatmaps of WriteNeedleHeatmap with a row per
// turn instead of per length. results must be as MultiTurnNeedles returns
// them.
func WriteMultiTurnNeedleHeatmap(dir string, cfg NeedleConfig, results []NeedleResult) error {
	turns := make([]int, cfg.Turns)
	for i := range turns {
		turns[i] = i + 1
	}
	return writeNeedleHeatmap(dir, "needle-turns", needleAxes{cfg.Depths, turns, "turn asking for the fact"}, len(cfg.Budgets), results)
}

// needleAxes are a heatmap's axes: needle depths across, rows (prompt
// lengths or turns) up; a result's cells are rows outer, depths inner.
type needleAxes struct {
	depths   []float64
	rows     []int
	rowLabel string
}

// writeNeedleHeatmap writes dir/name.svg and dir/name.png, one panel per
// result, budgets panels a row.
func writeNeedleHeatmap(dir, name string, ax needleAxes, budgets int, results []NeedleResult) error {
	if len(results) == 0 {
		return nil
	}
	cols := max(1, budgets)
	grid := [][]*plot.Plot{make([]*plot.Plot, cols)}
	grid[0][0] = needlePanel(ax, results[0], "full (dense)")
	for i, r := range results[1:] {
		if i%cols == 0 {
			grid = append(grid, make([]*plot.Plot, cols))
		}
		grid[len(grid)-1][i%cols] = needlePanel(ax, r, fmt.Sprintf("%s, budget %v", r.Policy, r.Budget))
	}
	w, h := vg.Length(cols)*3.2*vg.Inch, vg.Length(len(grid))*2.4*vg.Inch
	if _, err := figure.Save(filepath.Join(dir, name), grid, w, h); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}

// needleCells is a result's retrieved shares as a plotter.GridXYZ: column
// c is depth c, row r the axes' row r.
type needleCells struct {
	ax needleAxes
	r  NeedleResult
}

func (g needleCells) Dims() (c, r int) { return len(g.ax.depths), len(g.ax.rows) }
func (g needleCells) X(c int) float64  { return float64(c) }
func (g needleCells) Y(r int) float64  { return float64(r) }
func (g needleCells) Z(c, r int) float64 {
	cell := g.r.Cells[r*len(g.ax.depths)+c]
	if cell.Prompts == 0 {
		return 0
	}
	return float64(cell.Retrieved) / float64(cell.Prompts)
}

// needlePanel is one heatmap, red for none retrieved through grey for
// half to blue for all, each cell labelled with its count.
func needlePanel(ax needleAxes, r NeedleResult, title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(9)
	g := needleCells{ax, r}
	hm := plotter.NewHeatMap(g, palette.Reverse(moreland.SmoothBlueRed()).Palette(64))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	var labels plotter.XYLabels
	var xt, yt plot.ConstantTicks
	for c, d := range ax.depths {
		xt = append(xt, plot.Tick{Value: float64(c), Label: fmt.Sprint(d)})
	}
	for row, l := range ax.rows {
		yt = append(yt, plot.Tick{Value: float64(row), Label: fmt.Sprint(l)})
		for c := range ax.depths {
			cell := r.Cells[row*len(ax.depths)+c]
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(row)})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%d/%d", cell.Retrieved, cell.Prompts))
		}
	}
	if l, err := plotter.NewLabels(labels); err == nil {
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
			l.TextStyle[i].Font.Size = vg.Points(8)
		}
		p.Add(l)
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt
	p.X.Label.Text, p.Y.Label.Text = "needle depth", ax.rowLabel
	p.X.Min, p.X.Max = -0.5, float64(len(ax.depths))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(ax.rows))-0.5
	return p
}
