package analysis

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"sieve/internal/figure"
)

// PlotActivations writes the activation pictures into dir, each as SVG and
// PNG, and returns their paths: activations-layers (per layer, |h| over the
// tokens and dimensions with the largest values) and activations-ratio
// (the largest |h| over the median, per layer).
func PlotActivations(dir string, r *Result) ([]string, error) {
	a := r.Activations
	var maps []*plot.Plot
	for _, l := range a.Layers {
		m := l.Map
		cols := make([]string, len(m.Dims))
		for i, d := range m.Dims {
			cols[i] = fmt.Sprint(d)
		}
		rows := make([]string, len(m.Pos))
		z := make([][]float64, len(m.Pos))
		for i, p := range m.Pos {
			rows[i] = fmt.Sprintf("%d %q", p, m.Text[i])
			z[i] = make([]float64, len(m.Dims))
			for j, v := range m.Abs[i] {
				z[i][j] = float64(v)
			}
		}
		p := heatPlot(fmt.Sprintf("%s layer %d: |h|, max %.3g = %.0fx median", r.Model, l.Layer, l.Max, l.MaxRatio), cols, rows, z, "%.2g", 0)
		p.X.Label.Text, p.Y.Label.Text = "dimension", "position and token"
		maps = append(maps, p)
	}
	cols := min(len(maps), 3)
	files, err := saveTiles(dir, "activations-layers", tiles(maps, cols), vg.Length(cols)*5*vg.Inch, vg.Length((len(maps)+cols-1)/cols)*4.5*vg.Inch)
	if err != nil {
		return files, err
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: largest |h| over the layer's median |h|", r.Model)
	p.X.Label.Text, p.Y.Label.Text = "layer", "max / median"
	var ratio, thresh plotter.XYs
	top := a.Ratio
	for _, l := range a.Layers {
		ratio = append(ratio, plotter.XY{X: float64(l.Layer), Y: math.Max(l.MaxRatio, 1)})
		top = math.Max(top, l.MaxRatio)
	}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, decadeTicks(top)
	p.Y.Min, p.Y.Max = 1, math.Pow(10, math.Ceil(math.Log10(top)+0.01))
	thresh = plotter.XYs{{X: 0, Y: a.Ratio}, {X: float64(max(len(a.Layers)-1, 1)), Y: a.Ratio}}
	line, points, err := plotter.NewLinePoints(ratio)
	if err != nil {
		return files, err
	}
	tl, err := plotter.NewLine(thresh)
	if err != nil {
		return files, err
	}
	tl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	tl.Color = color.Gray{Y: 120}
	p.Add(line, points, tl)
	p.Legend.Add("max / median", line, points)
	p.Legend.Add(fmt.Sprintf("massive threshold (%gx)", a.Ratio), tl)
	p.Legend.Left = true
	p.Legend.Top = true
	p.Legend.YOffs = -vg.Millimeter * 2
	p.Legend.XOffs = vg.Millimeter * 4
	p.X.Tick.Marker = integerTicks(len(a.Layers))
	more, err := saveTiles(dir, "activations-ratio", [][]*plot.Plot{{p}}, 6*vg.Inch, 4*vg.Inch)
	return append(files, more...), err
}

// PlotAttention writes attention-heads (SVG and PNG) into dir: layer × KV
// head heatmaps of the first-token, massive-token and recent mass, the
// entropy and the share of keys covering 90% of the mass; the last column
// is the layer's pooled weights.
func PlotAttention(dir string, r *Result) ([]string, error) {
	a := r.Attention
	if a == nil {
		return nil, fmt.Errorf("analysis: the result has no attention statistics")
	}
	metrics := []struct {
		title string
		top   float64 // top of the colour scale; 0: the largest value
		f     func(HeadStats) float64
	}{
		{"mass on the first token", 1, func(h HeadStats) float64 { return h.First }},
		{"mass on massive-activation tokens", 1, func(h HeadStats) float64 { return h.Massive }},
		{fmt.Sprintf("mass on the last %d keys", a.Recent), 1, func(h HeadStats) float64 { return h.Recent }},
		{"entropy (nats)", 0, func(h HeadStats) float64 { return h.Entropy }},
		{"share of keys covering 90%", 1, func(h HeadStats) float64 { return h.Keys90 / math.Max(h.Seen, 1) }},
	}
	layers := len(a.Layers)
	heads := len(a.Heads) / max(layers, 1)
	cols := make([]string, heads+1)
	for h := range heads {
		cols[h] = fmt.Sprint(h)
	}
	cols[heads] = "all"
	rows := make([]string, layers)
	for l := range rows {
		rows[l] = fmt.Sprint(layers - 1 - l) // top layer first
	}
	var plots []*plot.Plot
	for _, m := range metrics {
		z := make([][]float64, layers)
		for i := range z {
			l := layers - 1 - i
			z[i] = make([]float64, heads+1)
			for h := range heads {
				z[i][h] = m.f(a.Heads[l*heads+h])
			}
			z[i][heads] = m.f(a.Layers[l].HeadStats)
		}
		p := heatPlot(fmt.Sprintf("%s: %s", r.Model, m.title), cols, rows, z, "%.2f", m.top)
		p.X.Label.Text, p.Y.Label.Text = "KV head", "layer"
		plots = append(plots, p)
	}
	w := vg.Length(heads+2) * 0.6 * vg.Inch
	h := vg.Length(layers+2) * 0.4 * vg.Inch
	return saveTiles(dir, "attention-heads", tiles(plots, 3), 3*max(w, 4*vg.Inch), 2*max(h, 3*vg.Inch))
}

// grid is a heat map's values, row 0 drawn at the top.
type grid struct{ z [][]float64 }

func (g grid) Dims() (c, r int)   { return len(g.z[0]), len(g.z) }
func (g grid) Z(c, r int) float64 { return g.z[len(g.z)-1-r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) Min() float64       { return math.Min(0, g.extreme(math.Min)) }
func (g grid) Max() float64       { return math.Max(g.extreme(math.Max), 1e-9) }
func (g grid) extreme(f func(a, b float64) float64) float64 {
	m := g.z[0][0]
	for _, row := range g.z {
		for _, v := range row {
			m = f(m, v)
		}
	}
	return m
}

// heatPlot draws z (rows top to bottom) with the given column and row
// labels, each cell annotated with its value, colours running from 0 (or
// the least value, if negative) to top (0: the largest value).
func heatPlot(title string, cols, rows []string, z [][]float64, format string, top float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	if len(z) == 0 || len(z[0]) == 0 {
		return p
	}
	g := grid{z: z}
	hm := plotter.NewHeatMap(g, moreland.SmoothBlueRed().Palette(255))
	if top > 0 {
		hm.Max = math.Max(top, hm.Max)
	}
	p.Add(hm)
	var xy plotter.XYLabels
	for r, row := range z {
		for c, v := range row {
			xy.XYs = append(xy.XYs, plotter.XY{X: float64(c), Y: float64(len(z) - 1 - r)})
			xy.Labels = append(xy.Labels, fmt.Sprintf(format, v))
		}
	}
	if labels, err := plotter.NewLabels(xy); err == nil {
		for i := range labels.TextStyle {
			labels.TextStyle[i].XAlign, labels.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
			labels.TextStyle[i].Font.Size = vg.Points(7)
		}
		p.Add(labels)
	}
	ticks := func(names []string, reverse bool) plot.ConstantTicks {
		t := make(plot.ConstantTicks, len(names))
		for i, n := range names {
			v := float64(i)
			if reverse {
				v = float64(len(names) - 1 - i)
			}
			t[i] = plot.Tick{Value: v, Label: n}
		}
		return t
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks(cols, false), ticks(rows, true)
	p.X.Min, p.X.Max = -0.5, float64(len(cols))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(rows))-0.5
	p.Title.TextStyle.Font.Size = vg.Points(10)
	return p
}

// integerTicks labels 0..n-1.
func integerTicks(n int) plot.ConstantTicks {
	t := make(plot.ConstantTicks, n)
	for i := range t {
		t[i] = plot.Tick{Value: float64(i), Label: fmt.Sprint(i)}
	}
	return t
}

// decadeTicks labels the powers of ten from 1 to above top.
func decadeTicks(top float64) plot.ConstantTicks {
	var t plot.ConstantTicks
	for v := 1.0; v <= 10*top; v *= 10 {
		t = append(t, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
	}
	return t
}

// tiles arranges plots in rows of cols.
func tiles(plots []*plot.Plot, cols int) [][]*plot.Plot {
	var out [][]*plot.Plot
	for i := 0; i < len(plots); i += cols {
		row := make([]*plot.Plot, cols)
		copy(row, plots[i:min(i+cols, len(plots))])
		out = append(out, row)
	}
	return out
}

// saveTiles draws the plots on one w × h page and writes it as
// dir/name.svg and dir/name.png.
func saveTiles(dir, name string, plots [][]*plot.Plot, w, h vg.Length) ([]string, error) {
	if len(plots) == 0 {
		return nil, nil
	}
	return figure.Save(filepath.Join(dir, name), plots, w, h)
}
