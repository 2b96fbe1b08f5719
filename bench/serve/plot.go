package serve

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"sieve/internal/figure"
)

// PlotSweep draws output throughput against TTFT p50 (in seconds) and
// TPOT p50 (in milliseconds), one line per label, and writes the picture
// as both SVG and PNG: path with its .svg or .png extension replaced, or
// path.svg and path.png when it has neither. It returns the files written.
func PlotSweep(path, title string, rs []Result) ([]string, error) {
	base := path
	switch ext := filepath.Ext(path); strings.ToLower(ext) {
	case ".svg", ".png":
		base = strings.TrimSuffix(path, ext)
	case "":
	default:
		return nil, fmt.Errorf("plot %s: want a .svg or .png file, or a name without extension", path)
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
		{"TTFT p50 (s)", func(r Result) float64 { return r.TTFT.P50 / 1000 }},
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
				return nil, fmt.Errorf("plot: %w", err)
			}
			line.Color, points.Color, points.Shape = plotutil.Color(j), plotutil.Color(j), plotutil.Shape(j)
			p.Add(line, points)
			p.Legend.Add(l, line, points)
		}
		row[i] = p
	}
	return figure.Save(base, [][]*plot.Plot{row}, 2*6*vg.Inch, 4.5*vg.Inch)
}
