package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sieve/internal/testmodels"
)

func TestAnalyze(t *testing.T) {
	common := []string{"-m", testmodels.Path(t, "stories260K.bin"), "-z", testmodels.Path(t, "tok512.bin"),
		"--text", "../../eval/testdata/stories.txt", "--max-tokens", "96", "--sequences", "2", "--threads", "2"}
	dir := t.TempDir()
	code, out, errOut := sieve(append([]string{"analyze", "activations", "--out", dir, "--top", "5"}, common...)...)
	if code != 0 || !strings.Contains(out, "max/median") || !strings.Contains(errOut, "analysing") {
		t.Fatalf("activations: exit %d, output %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = sieve(append([]string{"analyze", "attention", "--out", dir}, common...)...)
	if code != 0 || !strings.Contains(out, "entropy") {
		t.Fatalf("attention: exit %d, output %q, stderr %q", code, out, errOut)
	}
	var rep struct {
		Sequences   int `json:"sequences"`
		Tokens      int `json:"tokens"`
		Activations struct {
			Top []struct{ Layer int } `json:"top"`
		} `json:"activations"`
		Attention struct {
			Heads []struct{ Queries int } `json:"heads"`
		} `json:"attention"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "attention.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Sequences != 2 || rep.Tokens != 192 || len(rep.Activations.Top) != 20 || len(rep.Attention.Heads) != 5*4 {
		t.Fatalf("attention.json: %+v", rep)
	}
	for _, name := range []string{"activations.json", "activations-layers.svg", "activations-ratio.png", "attention-heads.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	for _, bad := range [][]string{{"analyze"}, {"analyze", "weights"}, {"analyze", "activations", "-m", "x"}} {
		if code, _, _ := sieve(bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
