package serve

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWorkloadFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prompts.jsonl")
	os.WriteFile(path, []byte(`{"prompt":"one","output_len":5}`+"\n\n"+`{"prompt":"two"}`+"\n"), 0o644)
	ps, err := Workload(WorkloadConfig{NumPrompts: 5, OutputLen: Range{9, 9}, File: path})
	if err != nil {
		t.Fatal(err)
	}
	want := []Prompt{{Text: "one", OutputLen: 5}, {Text: "two", OutputLen: 9}, {Text: "one", OutputLen: 5}, {Text: "two", OutputLen: 9}, {Text: "one", OutputLen: 5}}
	for i := range want {
		if ps[i].Text != want[i].Text || ps[i].OutputLen != want[i].OutputLen || ps[i].Tokens != nil {
			t.Errorf("prompt %d = %+v, want %+v", i, ps[i], want[i])
		}
	}
	os.WriteFile(path, []byte(`{"text":"no prompt field"}`+"\n"), 0o644)
	if _, err := Workload(WorkloadConfig{NumPrompts: 1, File: path}); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("bad line: %v", err)
	}
}

func TestWorkloadWords(t *testing.T) {
	ps, err := Workload(WorkloadConfig{NumPrompts: 3, InputLen: Range{5, 5}, OutputLen: Range{2, 4}, Words: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if n := len(strings.Fields(p.Text)); n != 5 || p.Tokens != nil || p.OutputLen < 2 || p.OutputLen > 4 {
			t.Errorf("prompt %+v: %d words", p, n)
		}
	}
}

func TestPlotSweepWritesSVG(t *testing.T) {
	rs := []Result{
		{Label: "dense", OutputTokS: 100, TTFT: Dist{P50: 10}, TPOT: Dist{P50: 5}},
		{Label: "dense", OutputTokS: 180, TTFT: Dist{P50: 30}, TPOT: Dist{P50: 9}},
		{Label: "layered", OutputTokS: 150, TTFT: Dist{P50: 12}, TPOT: Dist{P50: 4}},
	}
	dir := t.TempDir()
	for _, name := range []string{"sweep.svg", "sweep.png", "sweep"} {
		files, err := PlotSweep(filepath.Join(dir, name), "test", rs)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{filepath.Join(dir, "sweep.svg"), filepath.Join(dir, "sweep.png")}; !slices.Equal(files, want) {
			t.Fatalf("--plot %s wrote %v, want %v", name, files, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "sweep.svg"))
	if err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "layered") || !strings.Contains(string(b), "TTFT p50 (s)") {
		t.Errorf("plot file: %v, %.100q", err, b)
	}
	if _, err := PlotSweep(filepath.Join(dir, "x.gif"), "t", rs); err == nil {
		t.Error("a .gif plot was accepted")
	}
}

func TestWorkloadSharedPrefix(t *testing.T) {
	ps, err := Workload(WorkloadConfig{NumPrompts: 4, InputLen: Range{3, 5}, OutputLen: Range{2, 2}, Vocab: 100, PrefixLen: 10, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if n := len(p.Tokens); n < 13 || n > 15 || p.InputLen != n {
			t.Fatalf("prompt %d: %d tokens, input length %d; want 13 to 15", i, n, p.InputLen)
		}
		if !slices.Equal(p.Tokens[:10], ps[0].Tokens[:10]) {
			t.Errorf("prompt %d starts %v, prompt 0 %v", i, p.Tokens[:10], ps[0].Tokens[:10])
		}
	}
	if slices.Equal(ps[0].Tokens[10:], ps[1].Tokens[10:]) {
		t.Error("two prompts share their suffix too")
	}
	chat, err := Workload(WorkloadConfig{NumPrompts: 2, InputLen: Range{3, 3}, OutputLen: Range{2, 2}, Words: true, PrefixLen: 6, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range chat {
		if len(p.Messages) != 2 || p.Messages[0].Role != "system" || p.Messages[0].Content != chat[0].Messages[0].Content ||
			len(strings.Fields(p.Messages[0].Content)) != 6 || p.Messages[1].Role != "user" || len(strings.Fields(p.Messages[1].Content)) != 3 {
			t.Errorf("chat prompt %+v", p.Messages)
		}
	}
	plain, _ := Workload(WorkloadConfig{NumPrompts: 4, InputLen: Range{3, 5}, OutputLen: Range{2, 2}, Vocab: 100, Seed: 4})
	for i := range plain {
		if !slices.Equal(plain[i].Tokens, ps[i].Tokens[10:]) {
			t.Errorf("prompt %d: the prefix changed the rest, %v against %v", i, plain[i].Tokens, ps[i].Tokens[10:])
		}
	}
}
