package eval

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrUnknownDataset is returned for a LongBench record whose dataset has
// no known metric and none was given.
var ErrUnknownDataset = errors.New("eval: LongBench dataset with no known metric")

// LongBenchRecord is one line of a LongBench data file.
type LongBenchRecord struct {
	Input      string   `json:"input"`
	Context    string   `json:"context"`
	Answers    []string `json:"answers"`
	Dataset    string   `json:"dataset"`
	Task       string   `json:"task"`
	AllClasses []string `json:"all_classes"`
	ID         string   `json:"_id"`
}

// LongBench metrics, by the names --metric takes.
const (
	MetricF1             = "f1"             // QA: best TokenF1 over the answers
	MetricRougeL         = "rouge-l"        // summaries: best RougeL
	MetricClassification = "classification" // ClassAccuracy over all_classes
	MetricCount          = "count"          // NumberShare of the answer
	MetricRetrieval      = "retrieval"      // NumberShare of the paragraph number
	MetricCode           = "code"           // EditSimilarity of the first code line
)

// longBenchDataset is what a LongBench dataset is scored by and how long
// its answers may be.
type longBenchDataset struct {
	metric    string
	maxTokens int
	firstLine bool // only the answer's first line counts
}

// longBenchDatasets are LongBench's English datasets.
var longBenchDatasets = map[string]longBenchDataset{
	"narrativeqa":          {MetricF1, 128, false},
	"qasper":               {MetricF1, 128, false},
	"multifieldqa_en":      {MetricF1, 64, false},
	"hotpotqa":             {MetricF1, 32, false},
	"2wikimqa":             {MetricF1, 32, false},
	"musique":              {MetricF1, 32, false},
	"triviaqa":             {MetricF1, 32, true},
	"gov_report":           {MetricRougeL, 512, false},
	"qmsum":                {MetricRougeL, 512, false},
	"multi_news":           {MetricRougeL, 512, false},
	"samsum":               {MetricRougeL, 128, true},
	"trec":                 {MetricClassification, 64, true},
	"passage_count":        {MetricCount, 32, false},
	"passage_retrieval_en": {MetricRetrieval, 32, false},
	"lcc":                  {MetricCode, 64, false},
	"repobench-p":          {MetricCode, 64, false},
}

// LongBenchOptions override what the dataset name implies.
type LongBenchOptions struct {
	// Metric, when set, scores every record (one of the Metric constants).
	Metric string
	// MaxTokens, when positive, is every answer's length.
	MaxTokens int
	// Limit, when positive, keeps the first Limit records of each dataset.
	Limit int
}

// ReadLongBench reads LongBench JSONL records and makes task items of them:
// the context, then the question (the record's input) framed by the
// metric's prompt, scored by the dataset's metric. The dataset is the
// record's "dataset" field, else its "task".
func ReadLongBench(r io.Reader, opts LongBenchOptions) ([]TaskItem, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	var items []TaskItem
	seen := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var rec LongBenchRecord
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			return nil, fmt.Errorf("eval: LongBench line %d: %w", line, err)
		}
		if rec.Dataset == "" {
			rec.Dataset = rec.Task
		}
		if opts.Limit > 0 && seen[rec.Dataset] >= opts.Limit {
			continue
		}
		seen[rec.Dataset]++
		it, err := longBenchItem(rec, opts)
		if err != nil {
			return nil, fmt.Errorf("eval: LongBench line %d: %w", line, err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: LongBench: %w", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("eval: LongBench: no records")
	}
	return items, nil
}

// longBenchItem makes one record's task item.
func longBenchItem(rec LongBenchRecord, opts LongBenchOptions) (TaskItem, error) {
	ds, known := longBenchDatasets[rec.Dataset]
	if opts.Metric != "" {
		ds.metric = opts.Metric
	} else if !known {
		return TaskItem{}, fmt.Errorf("%w: %q (--metric sets one)", ErrUnknownDataset, rec.Dataset)
	}
	if opts.MaxTokens > 0 {
		ds.maxTokens = opts.MaxTokens
	}
	if ds.maxTokens == 0 {
		ds.maxTokens = 64
	}
	if len(rec.Answers) == 0 {
		return TaskItem{}, fmt.Errorf("record %q has no answers", rec.ID)
	}
	score, question, err := longBenchScore(ds.metric, rec)
	if err != nil {
		return TaskItem{}, err
	}
	first := ds.firstLine
	return TaskItem{
		Task:      rec.Dataset,
		Context:   rec.Context,
		Question:  question,
		MaxTokens: ds.maxTokens,
		Score: func(answer string) float64 {
			if first {
				answer, _, _ = strings.Cut(strings.TrimLeft(answer, "\n"), "\n")
			}
			return score(answer)
		},
	}, nil
}

// longBenchScore returns the metric's scoring of an answer against the
// record and the question text that frames the record's input.
func longBenchScore(metric string, rec LongBenchRecord) (func(string) float64, string, error) {
	best := func(f func(pred, ref string) float64) func(string) float64 {
		return func(pred string) float64 {
			var b float64
			for _, a := range rec.Answers {
				b = max(b, f(pred, a))
			}
			return b
		}
	}
	switch metric {
	case MetricF1:
		return best(TokenF1), "\n\nAnswer the question from the text above as briefly as you can.\nQuestion: " + rec.Input + "\nAnswer:", nil
	case MetricRougeL:
		q := rec.Input
		if q == "" {
			q = "Summarize the text above."
		}
		return best(RougeL), "\n\n" + q + "\nSummary:", nil
	case MetricClassification:
		return best(func(p, a string) float64 { return ClassAccuracy(p, a, rec.AllClasses) }), "\n" + rec.Input, nil
	case MetricCount:
		return best(NumberShare), "\n\n" + rec.Input + "\nAnswer:", nil
	case MetricRetrieval:
		return best(func(p, a string) float64 {
			return NumberShare(p, numbers.FindString(a))
		}), "\n\n" + rec.Input + "\nAnswer:", nil
	case MetricCode:
		return best(func(p, a string) float64 { return EditSimilarity(firstCodeLine(p), a) }), rec.Input, nil
	}
	return nil, "", fmt.Errorf("unknown metric %q (want %s, %s, %s, %s, %s or %s)", metric, MetricF1, MetricRougeL, MetricClassification, MetricCount, MetricRetrieval, MetricCode)
}

// firstCodeLine is the first line of an answer that is code: not empty and
// not a fence or a comment.
func firstCodeLine(s string) string {
	for l := range strings.SplitSeq(strings.TrimLeft(s, "\n"), "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "`") && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "//") {
			return l
		}
	}
	return ""
}
