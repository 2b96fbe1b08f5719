package eval

import (
	"context"
	"fmt"
	"slices"

	"sieve/engine"
	"sieve/model"
	"sieve/sparsity"
)

// QuestionAware is the Mode of runs whose question is part of the
// compressed prompt.
const QuestionAware = "question-aware"

// TaskItem is one prompt of a generation task: a context, the question
// about it, and how an answer is scored.
type TaskItem struct {
	// Task names the item's task, for the per-task columns.
	Task string
	// Context is compressed before the question is seen (by default).
	Context string
	// Question follows the context; it may be empty.
	Question string
	// MaxTokens is the length of the greedy answer.
	MaxTokens int
	// Score scores the answer text, in [0, 1].
	Score func(answer string) float64
}

// TaskConfig says what Tasks runs.
type TaskConfig struct {
	Items []TaskItem
	// Policies and Budgets are as in NeedleConfig: full always runs once,
	// the others at every budget, a fraction of each request (prompt,
	// question and answer) or tokens per layer.
	Policies []string
	Budgets  []float64
	// Spec is the engine's default sparsity (the zero Spec: defaults).
	Spec sparsity.Spec
	// QuestionAware also runs every policy and budget with the question
	// in the compressed prompt, reported apart (Mode QuestionAware). By
	// default only the context is the prompt: it is compressed before the
	// question is seen, and the question is fed through decode.
	QuestionAware bool
	// Raw sends the text as it is, without the model's chat template.
	Raw bool
	// Threads is the number of kernel threads (0: all CPUs).
	Threads int
	// Parallel is how many sequences run at once (0: DefaultParallel).
	Parallel int
	// KV is the KV cache storage of the runs.
	KV KVTypes
}

// TaskResult is the mean score of one policy, budget and mode.
type TaskResult struct {
	Policy string  `json:"policy"`
	Budget float64 `json:"budget"`
	Mode   string  `json:"mode,omitempty"`
	// Score is the mean over the items, Tasks the mean per task.
	Score float64            `json:"score"`
	Tasks map[string]float64 `json:"tasks"`
	Items int                `json:"items"`
	// Truncated counts the items whose context was cut in the middle to fit.
	Truncated int `json:"truncated"`
	// KVTokensEvicted adds up the engine's evictions over the items.
	KVTokensEvicted int64 `json:"kv_tokens_evicted"`
}

// taskPrompt is an item's tokens.
type taskPrompt struct {
	context, question []int32
	truncated         bool
}

// Tasks answers every item greedily through the engine under full and
// under every policy, budget (and mode), and scores the answers. Results
// come full first, then per policy its budgets, then the question-aware
// runs in the same order.
func Tasks(ctx context.Context, m *model.Model, cfg TaskConfig) ([]TaskResult, error) {
	if err := cfg.check(m); err != nil {
		return nil, err
	}
	pr, err := newPrompter(m.Tokenizer, m.ChatTemplate, cfg.Raw)
	if err != nil {
		return nil, err
	}
	prompts := make([]taskPrompt, len(cfg.Items))
	longest := 0
	for i, it := range cfg.Items {
		c, q, err := pr.encode(it.Context, it.Question)
		if err != nil {
			return nil, err
		}
		room := m.Config.ContextLen - len(q) - it.MaxTokens
		if room < 2 {
			return nil, fmt.Errorf("eval: item %d: a question of %d tokens and an answer of %d leave no room in the context of %d", i, len(q), it.MaxTokens, m.Config.ContextLen)
		}
		p := taskPrompt{context: c, question: q}
		if len(c) > room {
			p.context, p.truncated = TruncateMiddle(c, room), true
		}
		prompts[i] = p
		longest = max(longest, len(p.context)+len(q)+it.MaxTokens)
	}
	type run struct {
		policy string
		budget float64
		mode   string
	}
	runs := []run{{policy: string(sparsity.Full)}}
	for _, mode := range []string{"", QuestionAware} {
		if mode == QuestionAware && !cfg.QuestionAware {
			continue
		}
		for _, p := range cfg.Policies {
			if pp, _ := sparsity.ParsePolicy(p); pp == sparsity.Full {
				continue
			}
			for _, b := range cfg.Budgets {
				runs = append(runs, run{p, b, mode})
			}
		}
	}
	spec := cfg.Spec
	if spec == (sparsity.Spec{}) {
		spec = sparsity.DefaultSpec()
	}
	r, err := newRunnerFor(m, spec, cfg.Threads, cfg.Parallel, longest, cfg.KV)
	if err != nil {
		return nil, err
	}
	n := len(cfg.Items)
	scores := make([]float64, len(runs)*n)
	evicted := make([]int64, len(runs)*n)
	err = parallel(ctx, len(scores), func(ctx context.Context, i int) error {
		ru, it, p := runs[i/n], cfg.Items[i%n], prompts[i%n]
		answer, usage, err := r.taskAnswer(ctx, p, it.MaxTokens, ru.policy, ru.budget, ru.mode == QuestionAware)
		evicted[i] = int64(usage.KVTokensEvicted)
		if err != nil {
			return fmt.Errorf("%s at budget %v, item %d: %w", ru.policy, ru.budget, i%n, err)
		}
		scores[i] = it.Score(m.Tokenizer.Decode(answer))
		return nil
	})
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	out := make([]TaskResult, len(runs))
	for k, ru := range runs {
		res := TaskResult{Policy: ru.policy, Budget: ru.budget, Mode: ru.mode, Items: n, Tasks: map[string]float64{}}
		count := map[string]int{}
		for i, it := range cfg.Items {
			s := scores[k*n+i]
			res.Score += s / float64(n)
			res.Tasks[it.Task] += s
			res.KVTokensEvicted += evicted[k*n+i]
			count[it.Task]++
			if prompts[i].truncated {
				res.Truncated++
			}
		}
		for t, c := range count {
			res.Tasks[t] /= float64(c)
		}
		out[k] = res
	}
	return out, nil
}

// check validates the configuration against the model.
func (cfg *TaskConfig) check(m *model.Model) error {
	switch {
	case len(cfg.Items) == 0:
		return fmt.Errorf("eval: no task items")
	case m.Tokenizer == nil:
		return fmt.Errorf("eval: task prompts need the model's tokenizer")
	}
	for i, it := range cfg.Items {
		if it.MaxTokens < 1 || it.Score == nil {
			return fmt.Errorf("eval: item %d has %d answer tokens or no score", i, it.MaxTokens)
		}
	}
	for _, p := range cfg.Policies {
		if _, err := sparsity.ParsePolicy(p); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if slices.Contains(cfg.Budgets, 0) {
		return fmt.Errorf("eval: budget 0")
	}
	for _, b := range cfg.Budgets {
		if _, err := sparsity.ParseBudget(fmt.Sprint(b)); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	return nil
}

// TruncateMiddle keeps the first and last halves of n tokens of ids,
// dropping the middle, as LongBench fits a prompt to a context.
func TruncateMiddle(ids []int32, n int) []int32 {
	if len(ids) <= n {
		return ids
	}
	head := (n + 1) / 2
	return append(slices.Clone(ids[:head]), ids[len(ids)-(n-head):]...)
}

// taskAnswer decodes n greedy tokens after the prompt. Query-agnostic, the
// context alone is the prompt and the question is teacher-forced through
// decode, over whatever the policy kept; question-aware, both are the
// prompt.
func (r *runner) taskAnswer(ctx context.Context, p taskPrompt, n int, policy string, budget float64, aware bool) ([]int32, engine.Usage, error) {
	req := engine.Request{Prompt: p.context, Forced: p.question, MaxTokens: len(p.question) + n, KVPolicy: policy, KVBudget: budget}
	if aware {
		req.Prompt = append(slices.Clone(p.context), p.question...)
		req.Forced, req.MaxTokens = nil, n
	}
	var out []int32
	usage, err := r.submit(ctx, req, func(ev engine.Event) { out = append(out, ev.Tokens...) })
	if len(out) >= len(req.Forced) {
		out = out[len(req.Forced):]
	}
	return out, usage, err
}

// TaskSweep is the table of task results: the mean score per policy,
// budget and mode, with a column per task (in order of tasks).
func TaskSweep(eval, metric string, tasks []string, results []TaskResult) Sweep {
	s := Sweep{Eval: eval, Metric: metric, Columns: tasks}
	if len(results) == 0 {
		return s
	}
	full := results[0]
	for _, r := range results {
		values := make([]float64, len(tasks))
		for i, t := range tasks {
			values[i] = r.Tasks[t]
		}
		s.Add(r.Policy, r.Budget, r.Mode, r.Score, full.Score, values...)
	}
	return s
}
