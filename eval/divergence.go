package eval

import (
	"context"
	"fmt"
	"math"

	"sieve/engine"
	"sieve/model"
	"sieve/sparsity"
)

// DefaultGreedyTokens is the length of the greedy agreement run.
const DefaultGreedyTokens = 200

// DivergenceConfig says what Divergence scores.
type DivergenceConfig struct {
	// Texts are the sequences to score, each starting with BOS and at most
	// the model's context length (Windows and Sample make them).
	Texts [][]int32
	// From, when not nil, holds the first scored position of each text
	// (the positions before it are context only, as in a sliding-window
	// perplexity); nil scores every position from 1.
	From []int
	// Base, when not nil, is the model whose dense (full) logits are the
	// reference instead of the evaluated model's under full: a quantized
	// file against its original. Its vocabulary must be the model's. It
	// does not combine with the greedy run.
	Base *model.Model
	// Policies are the policies compared with full ("full" itself may be
	// among them).
	Policies []string
	// Budgets are the budgets every policy runs at: a fraction in (0, 1)
	// of each scored sequence, or a whole number ≥ 1 of tokens per layer.
	Budgets []float64
	// Spec is the engine's default sparsity: its profile and parameters
	// (sink, window, ...) apply to every run, whose policy and budget
	// override its own. The zero Spec means sparsity.ParseSpec's defaults.
	Spec sparsity.Spec
	// GreedyPrompt, when not empty, is the prompt (BOS first) from which
	// full generates GreedyTokens greedy tokens for the greedy agreement.
	GreedyPrompt []int32
	// GreedyTokens is the length of the greedy run (0: DefaultGreedyTokens),
	// cut to fit the context.
	GreedyTokens int
	// Threads is the number of kernel threads (0: all CPUs).
	Threads int
	// Parallel is how many sequences run at once (0: DefaultParallel).
	Parallel int
	// KV is the KV cache storage of the scored runs.
	KV KVTypes
	// RefKV is the KV cache storage of the reference (full) runs and of
	// the greedy run; the zero value means KV.
	RefKV KVTypes
}

// Result is the quality of one policy at one budget.
type Result struct {
	Policy string  `json:"policy"`
	Budget float64 `json:"budget"`
	// BudgetTokens is the budget in tokens per layer for the longest text
	// sequence (the context length when the text fills it).
	BudgetTokens int `json:"budget_tokens"`
	// Positions is the number of scored positions over all texts.
	Positions int `json:"positions"`
	// PPL and PPLFull are the perplexities of the texts under the policy
	// and under full; PPLIncrease is PPL/PPLFull − 1.
	PPL         float64 `json:"ppl"`
	PPLFull     float64 `json:"ppl_full"`
	PPLIncrease float64 `json:"ppl_increase"`
	// KL is KL(full ‖ policy) in nats, averaged over the positions.
	KL float64 `json:"kl"`
	// Top1Agreement is the fraction of positions whose most likely next
	// token is full's.
	Top1Agreement float64 `json:"top1_agreement"`
	// GreedyAgreement is the fraction of the greedy run's generated
	// positions whose most likely next token is full's, teacher-forced
	// through full's greedy output; GreedyPositions counts them (0 when
	// there was no greedy run) and GreedyBudgetTokens is the budget in
	// tokens per layer for that sequence.
	GreedyAgreement    float64 `json:"greedy_top1_agreement"`
	GreedyPositions    int     `json:"greedy_positions"`
	GreedyBudgetTokens int     `json:"greedy_budget_tokens"`
	// KVTokensKept and KVTokensEvicted add up the engine's counts over the
	// text sequences.
	KVTokensKept    int64 `json:"kv_tokens_kept"`
	KVTokensEvicted int64 `json:"kv_tokens_evicted"`
}

// Divergence scores the texts under every policy at every budget against
// full, teacher-forced through the engine's decode path (see the package
// documentation). Results come budget by budget, in the order of Budgets
// and then Policies.
func Divergence(ctx context.Context, m *model.Model, cfg DivergenceConfig) ([]Result, error) {
	if err := cfg.check(m); err != nil {
		return nil, err
	}
	spec := cfg.Spec
	if spec.Policy == "" {
		spec = sparsity.DefaultSpec()
	}
	longest := len(cfg.GreedyPrompt) + cfg.GreedyTokens
	for _, t := range cfg.Texts {
		longest = max(longest, len(t))
	}
	r, err := newRunnerFor(m, spec, cfg.Threads, cfg.Parallel, longest, cfg.KV)
	if err != nil {
		return nil, err
	}
	refKV := cfg.RefKV
	if refKV == (KVTypes{}) {
		refKV = cfg.KV
	}
	base := r
	if cfg.Base != nil || refKV.String() != cfg.KV.String() {
		bm := cfg.Base
		if bm == nil {
			bm = m
		}
		if base, err = newRunnerFor(bm, spec, cfg.Threads, cfg.Parallel, longest, refKV); err != nil {
			r.close()
			return nil, err
		}
	}
	res, err := divergence(ctx, r, base, cfg)
	if cerr := r.close(); err == nil && cerr != nil {
		return nil, cerr
	}
	if base != r {
		if cerr := base.close(); err == nil && cerr != nil {
			return nil, cerr
		}
	}
	return res, err
}

// check validates the configuration against the model.
func (cfg *DivergenceConfig) check(m *model.Model) error {
	switch {
	case len(cfg.Texts) == 0:
		return fmt.Errorf("eval: no text to score")
	case len(cfg.Policies) == 0 || len(cfg.Budgets) == 0:
		return fmt.Errorf("eval: no policy or no budget")
	}
	ctxLen := m.Config.ContextLen
	if cfg.Base != nil {
		if cfg.Base.Config.VocabSize != m.Config.VocabSize {
			return fmt.Errorf("eval: the base model's vocabulary of %d is not the model's %d", cfg.Base.Config.VocabSize, m.Config.VocabSize)
		}
		if len(cfg.GreedyPrompt) > 0 {
			return fmt.Errorf("eval: a base model does not combine with the greedy run")
		}
		ctxLen = min(ctxLen, cfg.Base.Config.ContextLen)
	}
	if cfg.From != nil && len(cfg.From) != len(cfg.Texts) {
		return fmt.Errorf("eval: %d first scored positions for %d texts", len(cfg.From), len(cfg.Texts))
	}
	for i, t := range cfg.Texts {
		if len(t) < 2 || len(t) > ctxLen {
			return fmt.Errorf("eval: text %d has %d tokens; want 2 to the context length %d", i, len(t), ctxLen)
		}
		if cfg.From != nil && (cfg.From[i] < 1 || cfg.From[i] >= len(t)) {
			return fmt.Errorf("eval: text %d of %d tokens scored from position %d", i, len(t), cfg.From[i])
		}
	}
	for _, p := range cfg.Policies {
		if _, err := sparsity.ParsePolicy(p); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	for _, b := range cfg.Budgets {
		if b == 0 {
			return fmt.Errorf("eval: budget 0")
		}
		if _, err := sparsity.ParseBudget(fmt.Sprint(b)); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if len(cfg.GreedyPrompt) > 0 {
		if cfg.GreedyTokens == 0 {
			cfg.GreedyTokens = DefaultGreedyTokens
		}
		cfg.GreedyTokens = min(cfg.GreedyTokens, m.Config.ContextLen-len(cfg.GreedyPrompt))
		if cfg.GreedyTokens < 1 {
			return fmt.Errorf("eval: greedy prompt of %d tokens leaves no room in the context of %d", len(cfg.GreedyPrompt), m.Config.ContextLen)
		}
	}
	return nil
}

// divergence runs the references on base, then every (budget, policy,
// sequence) on r.
func divergence(ctx context.Context, r, base *runner, cfg DivergenceConfig) ([]Result, error) {
	seqs := cfg.Texts
	greedyFrom := -1 // scored positions of the greedy sequence start here
	if len(cfg.GreedyPrompt) > 0 {
		gen, err := base.generate(ctx, cfg.GreedyPrompt, cfg.GreedyTokens, engine.SamplingParams{})
		if err != nil {
			return nil, fmt.Errorf("eval: greedy run: %w", err)
		}
		greedy := append(append([]int32(nil), cfg.GreedyPrompt...), gen...)
		seqs = append(seqs[:len(seqs):len(seqs)], greedy)
		greedyFrom = len(cfg.GreedyPrompt)
	}
	refs := make([]*reference, len(seqs))
	err := parallel(ctx, len(seqs), func(ctx context.Context, i int) error {
		var err error
		refs[i], err = newReference(ctx, base, seqs[i])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("eval: full reference: %w", err)
	}
	type key struct{ b, p, s int }
	var keys []key
	for b := range cfg.Budgets {
		for p := range cfg.Policies {
			for s := range seqs {
				keys = append(keys, key{b, p, s})
			}
		}
	}
	runs := make([]seqStats, len(keys))
	err = parallel(ctx, len(keys), func(ctx context.Context, i int) error {
		k := keys[i]
		from := 1
		switch {
		case k.s == len(cfg.Texts):
			from = greedyFrom
		case cfg.From != nil:
			from = cfg.From[k.s]
		}
		var err error
		runs[i], err = score(ctx, r, refs[k.s], cfg.Policies[k.p], cfg.Budgets[k.b], from)
		if err != nil {
			return fmt.Errorf("%s at budget %v, sequence %d: %w", cfg.Policies[k.p], cfg.Budgets[k.b], k.s, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	longest, greedyLen := 0, 0
	for _, t := range cfg.Texts {
		longest = max(longest, len(t))
	}
	if greedyFrom >= 0 {
		greedyLen = len(seqs[len(seqs)-1])
	}
	var out []Result
	for i := 0; i < len(runs); i += len(seqs) {
		k := keys[i]
		var text, greedy seqStats
		for s := range seqs {
			if s == len(cfg.Texts) {
				greedy = runs[i+s]
			} else {
				text.add(runs[i+s])
			}
		}
		policy, budget := cfg.Policies[k.p], cfg.Budgets[k.b]
		res := text.result(policy, budget)
		res.BudgetTokens = budgetTokens(policy, budget, longest)
		if greedy.n > 0 {
			res.GreedyAgreement = float64(greedy.agree) / float64(greedy.n)
			res.GreedyPositions = greedy.n
			res.GreedyBudgetTokens = budgetTokens(policy, budget, greedyLen)
		}
		out = append(out, res)
	}
	return out, nil
}

// budgetTokens is the budget the engine resolves for a sequence of n tokens
// (prompt plus forced), capped at n: full and budgets of n or more keep
// everything.
func budgetTokens(policy string, budget float64, n int) int {
	if p, _ := sparsity.ParsePolicy(policy); p == sparsity.Full {
		return n
	}
	b := int(budget)
	if budget < 1 {
		b = max(1, int(math.Round(budget*float64(n))))
	}
	return min(b, n)
}
