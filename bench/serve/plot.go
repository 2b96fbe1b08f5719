package serve

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotSweep draws output throughput against TTFT p50 and TPOT p50, one
// line per label, as an SVG or PNG (by path's extension).
func PlotSweep(path, title string, rs []Result) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "svg" && format != "png" {
		return fmt.Errorf("plot %s: want a .svg or .png file", path)
	}
	var labels []string
	for _, r := range rs {
		if !slices.Contains(labels, r.Label) {
			labels = append(labels, r.Label)
		}
	}
	panels := []struct {
		ylabel string
		y      func(Result) float64
	}{
		{"TTFT p50 (ms)", func(r Result) float64 { return r.TTFT.P50 }},
		{"TPOT p50 (ms)", func(r Result) float64 { return r.TPOT.P50 }},
	}
	row := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "output throughput (tok/s)"
		p.Y.Label.Text = pn.ylabel
		p.Legend.Top = true
		for j, l := range labels {
			var xys plotter.XYs
			for _, r := range rs {
				if r.Label == l {
					xys = append(xys, plotter.XY{X: r.OutputTokS, Y: pn.y(r)})
				}
			}
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				return fmt.Errorf("plot: %w", err)
			}
			line.Color, points.Color, points.Shape = plotutil.Color(j), plotutil.Color(j), plotutil.Shape(j)
			p.Add(line, points)
			p.Legend.Add(l, line, points)
		}
		row[i] = p
	}
	c, err := draw.NewFormattedCanvas(2*6*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	return f.Close()
}
