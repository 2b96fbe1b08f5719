package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"sieve/eval"
	"sieve/internal/cli"
	"sieve/model"
)

func evalLongBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve eval longbench", stderr)
	data := fs.String("data", "", "LongBench-format JSONL: context, input, answers, dataset (or task), all_classes")
	metric := fs.String("metric", "", "score every record by f1, rouge-l, classification, count, retrieval or code (default: by its dataset)")
	maxTokens := fs.Int("max-tokens", 0, "answer length in tokens (0: the dataset's)")
	limit := fs.Int("limit", 0, "use the first N records of each dataset (0: all)")
	f := addEvalTaskFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.model.path == "" || *data == "" {
		fmt.Fprintln(stderr, "sieve eval longbench: -m MODEL and --data FILE are required")
		fs.Usage()
		return errUsage
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	file, err := os.Open(*data)
	if err != nil {
		return err
	}
	defer file.Close()
	items, err := eval.ReadLongBench(file, eval.LongBenchOptions{Metric: *metric, MaxTokens: *maxTokens, Limit: *limit})
	if err != nil {
		return err
	}
	return f.run(ctx, "longbench", "score", "longbench "+*data, cfg, func(*model.Model) ([]eval.TaskItem, error) { return items, nil }, stdout, stderr)
}
