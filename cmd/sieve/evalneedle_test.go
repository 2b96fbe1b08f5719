package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sieve/internal/testmodels"
)

func TestEvalNeedle(t *testing.T) {
	dir := t.TempDir()
	args := []string{"eval", "needle", "-m", testmodels.Path(t, "needle-1k/model.bin"), "-z", testmodels.Path(t, "needle-1k/tok.bin"),
		"--lengths", "120,200", "--depths", "0.2,0.8", "--n", "1", "--policies", "full,h2o", "--budgets", "0.5", "--threads", "2", "--out", dir}
	code, out, errOut := sieve(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Results []struct {
			Policy string  `json:"policy"`
			Budget float64 `json:"budget"`
			Cells  []struct {
				Length, Prompts, Retrieved int
				Depth                      float64
			} `json:"cells"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(got.Results) != 2 || got.Results[0].Policy != "full" || got.Results[1].Policy != "h2o" || got.Results[1].Budget != 0.5 {
		t.Fatalf("results %+v", got.Results)
	}
	for _, r := range got.Results {
		if len(r.Cells) != 4 || r.Cells[3].Length != 200 || r.Cells[3].Depth != 0.8 || r.Cells[3].Prompts != 1 {
			t.Fatalf("%s cells %+v", r.Policy, r.Cells)
		}
	}
	if svg, err := os.ReadFile(filepath.Join(dir, "needle.svg")); err != nil || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("no heatmap: %v", err)
	}
	code, out, errOut = sieve(args...)
	if code != 0 || !strings.Contains(out, "vs full") || !strings.Contains(out, "h2o") {
		t.Fatalf("exit %d, table %q: %s", code, out, errOut)
	}
	if code, _, _ := sieve(append(args[:6:6], "--depths", "2")...); code == 0 {
		t.Fatal("depth 2 accepted")
	}
}

func TestEvalNeedleTurns(t *testing.T) {
	dir := t.TempDir()
	args := []string{"eval", "needle", "-m", testmodels.Path(t, "needle-1k/model.bin"), "-z", testmodels.Path(t, "needle-1k/tok.bin"),
		"--turns", "2", "--lengths", "120", "--turn-tokens", "40", "--depths", "0.5", "--n", "1", "--policies", "full,h2o", "--budgets", "0.5",
		"--threads", "2", "--out", dir}
	code, out, errOut := sieve(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Turns   int `json:"turns"`
		Results []struct {
			Policy string `json:"policy"`
			Cells  []struct {
				Turn, Prompts int
			} `json:"cells"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Turns != 2 || len(got.Results) != 2 || len(got.Results[1].Cells) != 2 || got.Results[1].Cells[1].Turn != 2 || got.Results[1].Cells[1].Prompts != 1 {
		t.Fatalf("results %+v", got)
	}
	if svg, err := os.ReadFile(filepath.Join(dir, "needle-turns.svg")); err != nil || !strings.Contains(string(svg), "turn asking for the fact") {
		t.Fatalf("no heatmap: %v", err)
	}
	code, out, errOut = sieve(args...)
	if code != 0 || !strings.Contains(out, "turn 2 (~") || !strings.Contains(out, "gave the fact's number") {
		t.Fatalf("exit %d, table %q: %s", code, out, errOut)
	}
}
