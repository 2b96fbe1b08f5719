package eval

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestReadLongBench(t *testing.T) {
	data := `{"input": "Who wrote it?", "context": "A long text.", "answers": ["Jane Austen"], "dataset": "hotpotqa", "_id": "a"}
{"input": "", "context": "Minutes of a meeting.", "answers": ["the board met"], "dataset": "qmsum"}

{"input": "What type is this?", "context": "examples", "answers": ["Person"], "all_classes": ["Person", "Location"], "task": "trec"}
{"input": "", "context": "def f():\n", "answers": ["    return 1"], "dataset": "lcc"}
{"input": "Which paragraph?", "context": "Paragraph 1: x", "answers": ["Paragraph 12"], "dataset": "passage_retrieval_en"}
{"input": "How many?", "context": "p", "answers": ["7"], "dataset": "passage_count"}
{"input": "second hotpot", "context": "c", "answers": ["x"], "dataset": "hotpotqa"}
`
	items, err := ReadLongBench(strings.NewReader(data), LongBenchOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		task   string
		tokens int
		answer string
		want   float64
	}{
		{"hotpotqa", 32, "Austen", 2.0 / 3},                    // P 1, R 1/2
		{"qmsum", 512, "The board met today", 2 * 0.75 / 1.75}, // LCS 3: P 3/4, R 1
		{"trec", 64, "Person\nLocation", 1},                    // first line only
		{"lcc", 64, "# comment\n    return 1\n", 1},            // first code line
		{"passage_retrieval_en", 32, "Paragraph 12", 1},        // the number of the answer
		{"passage_count", 32, "7 or 8", 0.5},                   // half the numbers
	}
	if len(items) != len(tests) {
		t.Fatalf("%d items, want %d (the limit keeps one hotpotqa)", len(items), len(tests))
	}
	for i, tt := range tests {
		it := items[i]
		if got := it.Score(tt.answer); it.Task != tt.task || it.MaxTokens != tt.tokens || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("item %d: %s, %d tokens, score(%q) = %v; want %s, %d, %v", i, it.Task, it.MaxTokens, tt.answer, got, tt.task, tt.tokens, tt.want)
		}
	}
	if !strings.Contains(items[0].Question, "Who wrote it?") || items[0].Context != "A long text." {
		t.Errorf("QA prompt: %q then %q", items[0].Context, items[0].Question)
	}
	if _, err := ReadLongBench(strings.NewReader(`{"context": "c", "answers": ["a"], "dataset": "dureader"}`), LongBenchOptions{}); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("unknown dataset: %v", err)
	}
	items, err = ReadLongBench(strings.NewReader(`{"context": "c", "answers": ["a b"], "dataset": "mine"}`), LongBenchOptions{Metric: MetricRougeL, MaxTokens: 9})
	if err != nil || items[0].MaxTokens != 9 || items[0].Score("a") != 2.0/3 {
		t.Errorf("--metric: %v, %+v", err, items)
	}
	for _, bad := range []string{`{"context": `, `{"context": "c", "answers": [], "dataset": "lcc"}`, ``} {
		if _, err := ReadLongBench(strings.NewReader(bad), LongBenchOptions{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestTruncateMiddle(t *testing.T) {
	ids := []int32{1, 2, 3, 4, 5, 6, 7}
	tests := []struct {
		n    int
		want []int32
	}{
		{7, ids},
		{9, ids},
		{4, []int32{1, 2, 6, 7}},
		{3, []int32{1, 2, 7}},
	}
	for _, tt := range tests {
		if got := TruncateMiddle(ids, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("TruncateMiddle(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}
