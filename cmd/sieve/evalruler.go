package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"sieve/eval"
	"sieve/internal/cli"
	"sieve/model"
)

func evalRuler(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve eval ruler", stderr)
	tasks := fs.String("tasks", strings.Join(eval.RulerTasks, ","), "comma-separated RULER tasks")
	lengths := fs.String("lengths", "250,500,900", "comma-separated prompt lengths in tokens (context and question)")
	samples := fs.Int("n", 4, "prompts per task and length")
	seed := fs.Uint64("seed", 1, "seed of the prompts")
	keys := fs.Int("keys", eval.RulerKeys, "needles of niah_multikey, one of them asked for")
	fillerPath := fs.String("filler", "", "filler sentences, one a line (default: generated sentences)")
	f := addEvalTaskFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.model.path == "" {
		fmt.Fprintln(stderr, "sieve eval ruler: -m MODEL is required")
		fs.Usage()
		return errUsage
	}
	if *samples < 1 {
		return fmt.Errorf("--n must be at least 1")
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	var ls []int
	for s := range strings.SplitSeq(*lengths, ",") {
		l, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || l < 1 {
			return fmt.Errorf("--lengths: %q is not a positive whole number", s)
		}
		ls = append(ls, l)
	}
	var filler []string
	if *fillerPath != "" {
		data, err := os.ReadFile(*fillerPath)
		if err != nil {
			return err
		}
		filler = strings.Split(string(data), "\n")
	}
	items := func(m *model.Model) ([]eval.TaskItem, error) {
		g, err := eval.NewRulerGenerator(m.Tokenizer, filler)
		if err != nil {
			return nil, err
		}
		g.Keys = *keys
		var out []eval.TaskItem
		for ti, task := range strings.Split(*tasks, ",") {
			for li, l := range ls {
				for s := range *samples {
					rng := rand.New(rand.NewPCG(*seed, uint64((ti*len(ls)+li)*(*samples)+s)))
					it, err := g.Make(rng, strings.TrimSpace(task), l)
					if err != nil {
						return nil, err
					}
					out = append(out, it.Item())
				}
			}
		}
		return out, nil
	}
	desc := fmt.Sprintf("ruler at %s tokens, %d prompts per task and length, seed %d", *lengths, *samples, *seed)
	return f.run(ctx, "ruler", "match", desc, cfg, items, stdout, stderr)
}
