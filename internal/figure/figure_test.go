package figure

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// linePlot is a one-line plot titled title.
func linePlot(t *testing.T, title string) *plot.Plot {
	t.Helper()
	p := plot.New()
	p.Title.Text = title
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 3}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	return p
}

func TestSaveWritesSVGAndPNG(t *testing.T) {
	tests := []struct {
		name string
		grid func(t *testing.T) [][]*plot.Plot
		w, h vg.Length
	}{
		{"one panel", func(t *testing.T) [][]*plot.Plot { return [][]*plot.Plot{{linePlot(t, "alone")}} }, 4 * vg.Inch, 3 * vg.Inch},
		{"grid with a gap", func(t *testing.T) [][]*plot.Plot {
			return [][]*plot.Plot{{linePlot(t, "a"), linePlot(t, "b")}, {linePlot(t, "c"), nil}}
		}, 6 * vg.Inch, 5 * vg.Inch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "not", "yet", "there", "fig")
			files, err := Save(base, tc.grid(t), tc.w, tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{base + ".svg", base + ".png"}; !slices.Equal(files, want) {
				t.Fatalf("wrote %v, want %v", files, want)
			}
			svg, err := os.ReadFile(files[0])
			if err != nil || !bytes.Contains(svg, []byte("<svg")) {
				t.Errorf("%s: %v, not SVG", files[0], err)
			}
			data, err := os.ReadFile(files[1])
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", files[1], err)
			}
			if want := int(float64(tc.w/vg.Inch) * DPI); img.Bounds().Dx() != want {
				t.Errorf("%s: %d pixels wide, want %d", files[1], img.Bounds().Dx(), want)
			}
		})
	}
}

func TestSaveRejectsAnEmptyGrid(t *testing.T) {
	if _, err := Save(filepath.Join(t.TempDir(), "x"), nil, vg.Inch, vg.Inch); err == nil {
		t.Error("Save of no panels succeeded")
	}
}
