package eval

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRelativeLoss(t *testing.T) {
	tests := []struct {
		score, full float64
		lower       bool
		want        float64
	}{
		{5, 4, true, 0.25},      // perplexity up a quarter
		{3, 4, true, -0.25},     // perplexity down
		{0.6, 0.8, false, 0.25}, // accuracy down a quarter
		{1, 0.8, false, -0.25},
		{0.5, 0, false, 0}, // nothing to lose against
	}
	for _, tt := range tests {
		if got := RelativeLoss(tt.score, tt.full, tt.lower); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("RelativeLoss(%v, %v, %v) = %v, want %v", tt.score, tt.full, tt.lower, got, tt.want)
		}
	}
}

func TestSweepTableAndPlot(t *testing.T) {
	s := Sweep{Eval: "ruler", Metric: "exact match", Columns: []string{"samples"}}
	s.Add("full", 0, "", 0.8, 0.8, 10)
	s.Add("h2o", 0.25, "", 0.6, 0.8, 10)
	s.Add("h2o", 0.25, "question-aware", 0.7, 0.8, 10)
	var b strings.Builder
	if err := s.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "exact match") || !strings.Contains(lines[2], "+25.00%") ||
		!strings.Contains(lines[3], "question-aware") || !strings.Contains(lines[3], "+12.50%") {
		t.Errorf("table:\n%s", b.String())
	}
	dir := t.TempDir()
	if err := s.WritePlot(dir); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "ruler.svg")); err != nil || !strings.Contains(string(data), "<svg") {
		t.Errorf("plot: %v, %.60q", err, data)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "ruler.png")); err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Errorf("plot: %v, %.8q is not a PNG", err, data)
	}
}
