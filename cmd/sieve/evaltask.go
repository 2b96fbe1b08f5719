package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"sieve/eval"
	"sieve/model"
)

// evalTaskFlags are the flags of the generation-task eval commands.
type evalTaskFlags struct {
	model      *modelFlags
	kv         *evalKVFlags
	aware, raw *bool
	threads    *int
	out        *evalOutFlags
}

// addEvalTaskFlags defines the task commands' common flags on fs.
func addEvalTaskFlags(fs *flag.FlagSet) *evalTaskFlags {
	return &evalTaskFlags{
		model:   addModelFlags(fs, ""),
		kv:      addEvalKVFlags(fs, defaultEvalBudgets, "each request (prompt, question and answer)"),
		aware:   fs.Bool("question-aware", false, "also run each policy with the question in the compressed prompt, reported apart (default: the context is compressed before the question is seen)"),
		raw:     fs.Bool("raw", false, "send prompts as raw text, without the model's chat template"),
		threads: addThreadsFlag(fs),
		out:     addEvalOutFlags(fs),
	}
}

// config returns the task configuration the flags give, without items.
func (f *evalTaskFlags) config() (eval.TaskConfig, error) {
	cfg := eval.TaskConfig{QuestionAware: *f.aware, Raw: *f.raw, Threads: *f.threads, KV: f.kv.kvTypes()}
	if err := f.out.makeOutDir(); err != nil {
		return cfg, err
	}
	var err error
	cfg.Policies, cfg.Budgets, cfg.Spec, err = f.kv.parse()
	return cfg, err
}

// run opens the model, makes the items with items(m), runs them and prints
// the sweep (named name, scored by metric) with a column per task, under a
// heading that describes the run by desc.
func (f *evalTaskFlags) run(ctx context.Context, name, metric, desc string, cfg eval.TaskConfig, items func(*model.Model) ([]eval.TaskItem, error), stdout, stderr io.Writer) error {
	m, err := f.model.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	if cfg.Items, err = items(m); err != nil {
		return err
	}
	results, err := eval.Tasks(ctx, m, cfg)
	if err != nil {
		return err
	}
	var tasks []string
	for _, it := range cfg.Items {
		tasks = append(tasks, it.Task)
	}
	tasks = uniq(tasks)
	prompt := "chat template"
	if cfg.Raw || m.ChatTemplate == "" {
		prompt = "raw prompts"
	}
	truncated := 0
	if len(results) > 0 {
		truncated = results[0].Truncated
	}
	mode := "context compressed before the question is seen"
	if cfg.QuestionAware {
		mode += " (question-aware rows: with it)"
	}
	heading := fmt.Sprintf("model %s, %s, %d items (%d cut in the middle to fit), %s, %s, greedy", m.Name, desc, len(cfg.Items), truncated, prompt, mode)
	fields := map[string]any{"model": m.Name, "items": len(cfg.Items), "results": results}
	return f.out.write(stdout, heading, eval.TaskSweep(name, metric, tasks, results), fields)
}

// uniq drops repeated strings, keeping the first of each.
func uniq(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
