package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"sieve/engine"
	"sieve/model"
	"sieve/sparsity"
)

// DefaultAnswerTokens is how many tokens a needle answer is decoded for:
// room for a space, seven digits one token each, and a full stop.
const DefaultAnswerTokens = 10

// NeedleConfig says what Needles runs.
type NeedleConfig struct {
	// Filler holds the filler sentences (nil: GenerateFiller's).
	Filler []string
	// Lengths are the prompt lengths in tokens, about (whole sentences).
	Lengths []int
	// Depths are the needle depths in [0, 1].
	Depths []float64
	// Samples is the number of prompts per (length, depth) (0: 1).
	Samples int
	// Seed draws the prompts: the same seed gives the same prompts.
	Seed uint64
	// Policies are the policies compared with full ("full" itself may be
	// among them; full always runs, as the reference).
	Policies []string
	// Budgets are the budgets every policy but full runs at: a fraction in
	// (0, 1) of each request (prompt plus answer), or tokens per layer.
	Budgets []float64
	// Spec is the engine's default sparsity: its profile and parameters
	// apply to every run, whose policy and budget override its own. The
	// zero Spec means sparsity.ParseSpec's defaults.
	Spec sparsity.Spec
	// AnswerTokens is the length of each greedy answer (0:
	// DefaultAnswerTokens).
	AnswerTokens int
	// Threads is the number of kernel threads (0: all CPUs).
	Threads int
	// Parallel is how many sequences run at once (0: DefaultParallel).
	Parallel int
	// Turns and TurnTokens shape MultiTurnNeedles' conversations: Turns
	// turns, the first of Lengths[0] tokens, each later one adding about
	// TurnTokens tokens of filler.
	Turns      int
	TurnTokens int
	// KV is the KV cache storage of the runs.
	KV KVTypes
}

// NeedleCell is the retrieval of one policy and budget over the prompts of
// one (length, depth), or in a multi-turn run of one (turn, depth).
type NeedleCell struct {
	Length int     `json:"length"`
	Turn   int     `json:"turn,omitempty"` // the turn that asks for the fact, from 1
	Depth  float64 `json:"depth"`
	// Prompts is the number of prompts, Retrieved those answered right.
	Prompts   int `json:"prompts"`
	Retrieved int `json:"retrieved"`
	// Tokens is the mean prompt length in tokens.
	Tokens float64 `json:"tokens"`
}

// NeedleResult is the retrieval of one policy at one budget (0 for full).
type NeedleResult struct {
	Policy string  `json:"policy"`
	Budget float64 `json:"budget"`
	// Cells holds one cell per (length, depth), lengths outer, in the
	// order of the configuration.
	Cells []NeedleCell `json:"cells"`
	// DistractorLeaks counts, in a multi-turn run, the conversations whose
	// answer to the first turn's question (about another word) gave the
	// fact's number, which puts the number in the history a second time.
	DistractorLeaks int `json:"distractor_leaks,omitempty"`
}

// ByLength adds up the cells of each length, in the order of lengths.
func (r NeedleResult) ByLength(lengths []int) []NeedleCell {
	return r.group(lengths, func(c *NeedleCell) *int { return &c.Length })
}

// ByTurn adds up the cells of each turn from 1 to turns.
func (r NeedleResult) ByTurn(turns int) []NeedleCell {
	ks := make([]int, turns)
	for i := range ks {
		ks[i] = i + 1
	}
	return r.group(ks, func(c *NeedleCell) *int { return &c.Turn })
}

// group adds up the cells whose field key points at is each of keys, in
// order.
func (r NeedleResult) group(keys []int, key func(*NeedleCell) *int) []NeedleCell {
	out := make([]NeedleCell, len(keys))
	for i, k := range keys {
		*key(&out[i]) = k
		for _, c := range r.Cells {
			if *key(&c) == k {
				out[i].Tokens = (out[i].Tokens*float64(out[i].Prompts) + c.Tokens*float64(c.Prompts)) / float64(out[i].Prompts+c.Prompts)
				out[i].Prompts += c.Prompts
				out[i].Retrieved += c.Retrieved
			}
		}
	}
	return out
}

// needleRun is one prompt under one policy and budget.
type needleRun struct {
	cell   int // index of the (length, depth) cell
	prompt int
	policy string
	budget float64
}

// Needles measures needle retrieval: it draws Samples prompts per (length,
// depth), answers each greedily through the engine under full and under
// every policy and budget, and returns full's result first, then one per
// (policy, budget) in the order of the configuration, budgets inner.
func Needles(ctx context.Context, m *model.Model, cfg NeedleConfig) ([]NeedleResult, error) {
	if err := cfg.check(m); err != nil {
		return nil, err
	}
	g, err := NewNeedleGenerator(m.Tokenizer, cfg.Filler)
	if err != nil {
		return nil, err
	}
	type promptAt struct {
		cell int
		n    Needle
	}
	var prompts []promptAt
	cells := len(cfg.Lengths) * len(cfg.Depths)
	for c := range cells {
		l, d := cfg.Lengths[c/len(cfg.Depths)], cfg.Depths[c%len(cfg.Depths)]
		for s := range cfg.Samples {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(c*cfg.Samples+s)))
			n, err := g.Make(rng, l, d)
			if err != nil {
				return nil, err
			}
			if len(n.Tokens)+cfg.AnswerTokens > m.Config.ContextLen {
				return nil, fmt.Errorf("eval: a needle prompt of %d tokens and its answer of %d exceed the context length %d", len(n.Tokens), cfg.AnswerTokens, m.Config.ContextLen)
			}
			prompts = append(prompts, promptAt{c, n})
		}
	}
	runs := []needleRun{}
	for _, st := range needleSettings(cfg) {
		for i, p := range prompts {
			runs = append(runs, needleRun{cell: p.cell, prompt: i, policy: st.Policy, budget: st.Budget})
		}
	}
	r, err := newRunner(m, cfg.spec(), cfg.Threads, cfg.Parallel, cfg.KV)
	if err != nil {
		return nil, err
	}
	ok := make([]bool, len(runs))
	err = parallel(ctx, len(runs), func(ctx context.Context, i int) error {
		run := runs[i]
		n := prompts[run.prompt].n
		answer, err := r.answer(ctx, n.Tokens, cfg.AnswerTokens, run.policy, run.budget)
		if err != nil {
			return fmt.Errorf("%s at budget %v: %w", run.policy, run.budget, err)
		}
		ok[i] = Retrieved(m.Tokenizer.Decode(answer), n.Number)
		return nil
	})
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	var out []NeedleResult
	for i, run := range runs {
		if i == 0 || run.policy != runs[i-1].policy || run.budget != runs[i-1].budget {
			res := NeedleResult{Policy: run.policy, Budget: run.budget, Cells: make([]NeedleCell, cells)}
			for c := range res.Cells {
				res.Cells[c] = NeedleCell{Length: cfg.Lengths[c/len(cfg.Depths)], Depth: cfg.Depths[c%len(cfg.Depths)]}
			}
			out = append(out, res)
		}
		c := &out[len(out)-1].Cells[run.cell]
		c.Tokens = (c.Tokens*float64(c.Prompts) + float64(len(prompts[run.prompt].n.Tokens))) / float64(c.Prompts+1)
		c.Prompts++
		if ok[i] {
			c.Retrieved++
		}
	}
	return out, nil
}

// spec is the engine's default sparsity: cfg.Spec, or ParseSpec's
// defaults when it is the zero Spec.
func (cfg *NeedleConfig) spec() sparsity.Spec {
	if cfg.Spec == (sparsity.Spec{}) {
		if spec, err := sparsity.ParseSpec("", 0, ""); err == nil {
			return spec
		}
	}
	return cfg.Spec
}

// check validates the configuration and fills in its defaults.
func (cfg *NeedleConfig) check(m *model.Model) error {
	if cfg.Samples == 0 {
		cfg.Samples = 1
	}
	if cfg.AnswerTokens == 0 {
		cfg.AnswerTokens = DefaultAnswerTokens
	}
	switch {
	case len(cfg.Lengths) == 0 || len(cfg.Depths) == 0:
		return fmt.Errorf("eval: no needle lengths or depths")
	case cfg.Samples < 0 || cfg.AnswerTokens < 0:
		return fmt.Errorf("eval: negative samples %d or answer tokens %d", cfg.Samples, cfg.AnswerTokens)
	case m.Tokenizer == nil:
		return fmt.Errorf("eval: needle prompts need the model's tokenizer")
	}
	for _, l := range cfg.Lengths {
		if l < 1 || l > m.Config.ContextLen {
			return fmt.Errorf("eval: needle length %d outside 1 to the context length %d", l, m.Config.ContextLen)
		}
	}
	for _, d := range cfg.Depths {
		if !(d >= 0 && d <= 1) {
			return fmt.Errorf("eval: needle depth %v outside [0, 1]", d)
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

// answer generates n greedy tokens after prompt under the policy and budget.
func (r *runner) answer(ctx context.Context, prompt []int32, n int, policy string, budget float64) ([]int32, error) {
	req := engine.Request{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, KVPolicy: policy, KVBudget: budget}
	var out []int32
	_, err := r.submit(ctx, req, func(ev engine.Event) { out = append(out, ev.Tokens...) })
	return out, err
}
