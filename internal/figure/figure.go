// Package figure saves gonum plots the one way every sieve command does:
// panels laid out on one page, written as both SVG and PNG.
package figure

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of the PNG pictures.
const DPI = 110

// Save draws grid (rows of panels, all rows as long as the first; a nil
// panel leaves its place empty) on one w × h page and writes it as
// base.svg and base.png, creating base's directory when missing. It
// returns the paths written, the SVG first.
func Save(base string, grid [][]*plot.Plot, w, h vg.Length) ([]string, error) {
	if len(grid) == 0 || len(grid[0]) == 0 {
		return nil, fmt.Errorf("figure: %s: no panels to draw", base)
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, fmt.Errorf("figure: %w", err)
	}
	tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	var files []string
	for _, c := range []struct {
		canvas vg.CanvasWriterTo
		ext    string
	}{
		{vgsvg.New(w, h), ".svg"},
		{vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}, ".png"},
	} {
		panels := plot.Align(grid, tiles, draw.New(c.canvas))
		for r, row := range grid {
			for col, p := range row {
				if p != nil {
					p.Draw(panels[r][col])
				}
			}
		}
		path := base + c.ext
		if err := write(path, c.canvas); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// write writes a drawn canvas to path.
func write(path string, c vg.CanvasWriterTo) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("figure: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("figure: %s: %w", path, err)
	}
	return f.Close()
}
