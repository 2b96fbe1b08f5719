package analysis

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPlotsWriteSVGAndPNG(t *testing.T) {
	res, err := Run(context.Background(), plantedModel(), [][]int32{plantedSequence()}, Options{Attention: true, MapSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acts, err := PlotActivations(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	atts, err := PlotAttention(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range []string{"activations-layers", "activations-ratio", "attention-heads"} {
		want = append(want, filepath.Join(dir, name+".svg"), filepath.Join(dir, name+".png"))
	}
	if got := append(acts, atts...); !slices.Equal(got, want) {
		t.Fatalf("wrote %v, want %v", got, want)
	}
	for _, path := range want {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(path, ".png") {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Errorf("%s: %v", path, err)
			} else if img.Bounds().Dx() < 100 {
				t.Errorf("%s: %v wide, want at least 100 pixels", path, img.Bounds())
			}
		} else if !bytes.Contains(data, []byte("<svg")) {
			t.Errorf("%s is not SVG", path)
		}
	}
	// The planted token's magnitude map row names it and the planted dim.
	m := res.Activations.Layers[plantLayer].Map
	if !slices.Contains(m.Pos, plantPos) || !slices.Contains(m.Dims, plantOut) || len(m.Pos) != 4 || len(m.Dims) != 4 {
		t.Errorf("layer %d map rows %v, dims %v: want 4 of each including position %d and dim %d", plantLayer, m.Pos, m.Dims, plantPos, plantOut)
	}
}
