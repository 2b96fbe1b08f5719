package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sieve/eval"
	"sieve/internal/testmodels"
)

func TestEvalDivergence(t *testing.T) {
	text := filepath.Join(t.TempDir(), "text.txt")
	story := "Once upon a time, there was a little cat named Tom. Tom liked to sit in the sun. One day, he saw a bird on the fence and wanted to play with it."
	if err := os.WriteFile(text, []byte(story+"\n\n"+story), 0o644); err != nil {
		t.Fatal(err)
	}
	model := []string{"-m", testmodels.Path(t, "stories260K.bin"), "-z", testmodels.Path(t, "tok512.bin")}
	args := append([]string{"eval", "divergence", "--text", text, "--kv-policy", "full,h2o", "--kv-budget", "0.5,20", "--greedy", "30", "--threads", "2"}, model...)

	code, out, errOut := sieve(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Texts   int `json:"texts"`
		Results []struct {
			Policy        string  `json:"policy"`
			Budget        float64 `json:"budget"`
			PPL           float64 `json:"ppl"`
			PPLFull       float64 `json:"ppl_full"`
			KL            float64 `json:"kl"`
			Top1Agreement float64 `json:"top1_agreement"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	want := []struct {
		policy string
		budget float64
	}{{"full", 0.5}, {"h2o", 0.5}, {"full", 20}, {"h2o", 20}}
	if got.Texts != 2 || len(got.Results) != len(want) {
		t.Fatalf("%d texts and %d results, want 2 and %d: %s", got.Texts, len(got.Results), len(want), out)
	}
	for i, w := range want {
		r := got.Results[i]
		if r.Policy != w.policy || r.Budget != w.budget || !(r.PPL > 1) || !(r.KL >= 0) {
			t.Errorf("result %d: %+v, want %s at %v with ppl > 1 and KL ≥ 0", i, r, w.policy, w.budget)
		}
		if r.Policy == "full" && (r.KL != 0 || r.Top1Agreement != 1 || r.PPL != r.PPLFull) {
			t.Errorf("full: %+v, want KL 0, agreement 1, ppl = ppl_full", r)
		}
	}

	code, out, errOut = sieve(args...)
	// heading, header, full once, h2o at each budget
	if code != 0 || !strings.Contains(out, "loss vs full") || strings.Count(out, "\n") != 2+3 {
		t.Errorf("table: exit %d, output\n%s\n%s", code, out, errOut)
	}
}

func TestEvalPPL(t *testing.T) {
	text := filepath.Join(t.TempDir(), "text.txt")
	story := "Once upon a time, there was a little cat named Tom. Tom liked to sit in the sun. One day, he saw a bird on the fence and wanted to play with it. "
	if err := os.WriteFile(text, []byte(strings.Repeat(story, 3)), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "plots", "ppl") // --out creates it
	args := []string{"eval", "ppl", "-m", testmodels.Path(t, "stories260K.bin"), "-z", testmodels.Path(t, "tok512.bin"),
		"--text", text, "--ctx", "64", "--stride", "32", "--kv-policy", "full,window", "--kv-budget", "0.25,0.5", "--threads", "2", "--out", dir, "--json"}
	code, out, errOut := sieve(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Windows int        `json:"windows"`
		Sweep   eval.Sweep `json:"sweep"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Windows < 2 || len(got.Sweep.Rows) != 3 || got.Sweep.Rows[0].Policy != "full" || got.Sweep.Rows[0].Loss != 0 {
		t.Fatalf("%d windows, sweep %+v; want at least 2 windows, full then window at 2 budgets", got.Windows, got.Sweep)
	}
	for _, r := range got.Sweep.Rows {
		if !(r.Score > 1) || r.Full != got.Sweep.Rows[0].Score {
			t.Errorf("row %+v: want ppl > 1 against full's %v", r, got.Sweep.Rows[0].Score)
		}
	}
	for _, name := range []string{"ppl.svg", "ppl.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestEvalPrintsItsTableBeforeAPictureFails(t *testing.T) {
	text := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("Once upon a time, there was a little cat named Tom. ", 8)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file where the picture should go: the directory exists, the
	// picture cannot be written, and the table must still be printed.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ppl.svg"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := sieve("eval", "ppl", "-m", "demo", "--text", text, "--ctx", "32", "--kv-policy", "full,window",
		"--kv-budget", "0.5", "-t", "1", "--out", dir)
	if code != 1 || !strings.Contains(out, "window") || !strings.Contains(errOut, "ppl.svg") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 after the table, naming ppl.svg", code, out, errOut)
	}
	// An --out that cannot be created fails before the run.
	code, out, errOut = sieve("eval", "ppl", "-m", "demo", "--text", text, "--out", filepath.Join(text, "sub"))
	if code != 1 || out != "" || !strings.Contains(errOut, "--out") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and an --out error before any output", code, out, errOut)
	}
}

func TestEvalLongBench(t *testing.T) {
	data := filepath.Join(t.TempDir(), "lb.jsonl")
	lines := `{"input": "What did Tom see?", "context": "Once upon a time, there was a little cat named Tom. One day, he saw a bird.", "answers": ["a bird"], "dataset": "hotpotqa"}
{"input": "", "context": "Once upon a time, there was a little girl named Lily. She found a big red ball.", "answers": ["Lily found a ball"], "dataset": "samsum"}
`
	if err := os.WriteFile(data, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"eval", "longbench", "-m", testmodels.Path(t, "stories260K.bin"), "-z", testmodels.Path(t, "tok512.bin"),
		"--data", data, "--kv-policy", "full,h2o", "--kv-budget", "0.5", "--max-tokens", "8", "--question-aware", "--threads", "2", "--json"}
	code, out, errOut := sieve(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Items int        `json:"items"`
		Sweep eval.Sweep `json:"sweep"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	s := got.Sweep
	if got.Items != 2 || len(s.Rows) != 3 || s.Rows[2].Mode != eval.QuestionAware || !slices.Equal(s.Columns, []string{"hotpotqa", "samsum"}) {
		t.Fatalf("%d items, sweep %+v; want 2 items, full, h2o and h2o question-aware with a column per dataset", got.Items, s)
	}
	for _, r := range s.Rows {
		if r.Score < 0 || r.Score > 1 || len(r.Values) != 2 || r.Full != s.Rows[0].Score {
			t.Errorf("row %+v", r)
		}
	}
}

func TestEvalRuler(t *testing.T) {
	dir := t.TempDir()
	args := []string{"eval", "ruler", "-m", testmodels.Path(t, "needle-1k/model.bin"), "-z", testmodels.Path(t, "needle-1k/tok.bin"),
		"--lengths", "200", "--n", "2", "--kv-policy", "full,window", "--kv-budget", "0.5", "--threads", "2", "--out", dir, "--json"}
	code, out, errOut := sieve(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Items int        `json:"items"`
		Sweep eval.Sweep `json:"sweep"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	s := got.Sweep
	if got.Items != 2*len(eval.RulerTasks) || len(s.Rows) != 2 || !slices.Equal(s.Columns, eval.RulerTasks) {
		t.Fatalf("%d items, sweep %+v", got.Items, s)
	}
	// needle-1k is trained for the single needle: full retrieves it.
	if full := s.Rows[0]; full.Policy != "full" || full.Values[0] != 1 {
		t.Errorf("full: %+v, want niah_single 1", full)
	}
	if _, err := os.Stat(filepath.Join(dir, "ruler.svg")); err != nil {
		t.Error(err)
	}
	if code, _, errOut := sieve(append(args[:len(args)-1], "--tasks", "qa")...); code != 1 || !strings.Contains(errOut, "unknown RULER task") {
		t.Errorf("unknown task: exit %d, %s", code, errOut)
	}
}

func TestEvalUsage(t *testing.T) {
	m := testmodels.Path(t, "stories260K.bin")
	z := testmodels.Path(t, "tok512.bin")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no subcommand", []string{"eval"}, 2, "usage: sieve eval <command>"},
		{"no model", []string{"eval", "divergence", "--text", "x"}, 2, "-m MODEL"},
		{"no text", []string{"eval", "divergence", "-m", m, "-z", z}, 2, "exactly one of --text"},
		{"text and samples", []string{"eval", "divergence", "-m", m, "-z", z, "--text", "x", "--sample-seed", "1"}, 2, "exactly one of --text"},
		{"bad budget", []string{"eval", "divergence", "-m", m, "-z", z, "--text", "x", "--kv-budget", "0.5,1.5"}, 1, "whole number"},
		{"ppl without text", []string{"eval", "ppl", "-m", m, "-z", z}, 2, "--text FILE"},
		{"ppl scoring nothing", []string{"eval", "ppl", "-m", m, "-z", z, "--text", "eval_test.go", "--ctx", "8", "--score-after", "7"}, 1, "score nothing"},
		{"longbench without data", []string{"eval", "longbench", "-m", m, "-z", z}, 2, "--data FILE"},
		{"longbench unknown dataset", []string{"eval", "longbench", "-m", m, "-z", z, "--data", "testdata/unknown-dataset.jsonl"}, 1, "no such file"},
		{"missing text file", []string{"eval", "divergence", "-m", m, "-z", z, "--text", filepath.Join(t.TempDir(), "none.txt")}, 1, "none.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := sieve(tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut, tt.code, tt.msg)
			}
		})
	}
}
