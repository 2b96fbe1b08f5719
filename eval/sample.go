package eval

import (
	"context"
	"fmt"

	"sieve/engine"
	"sieve/model"
	"sieve/sparsity"
)

// SampleConfig says what Sample draws.
type SampleConfig struct {
	// Count is the number of sequences (0: 1).
	Count int
	// Seed is the first sequence's sampling seed; the others count up.
	Seed uint64
	// Threads is the number of kernel threads (0: all CPUs).
	Threads int
}

// Sample draws sequences of the model's context length from BOS under full,
// at temperature 1 with no other filter: text the model did not generate
// greedily, in the form Divergence scores.
func Sample(ctx context.Context, m *model.Model, cfg SampleConfig) ([][]int32, error) {
	if m.Tokenizer == nil || m.Tokenizer.BOS() < 0 {
		return nil, fmt.Errorf("eval: sampling needs a tokenizer with a BOS token")
	}
	if cfg.Count <= 0 {
		cfg.Count = 1
	}
	r, err := newRunner(m, sparsity.DefaultSpec(), cfg.Threads, min(cfg.Count, DefaultParallel), KVTypes{})
	if err != nil {
		return nil, err
	}
	bos := []int32{m.Tokenizer.BOS()}
	n := m.Config.ContextLen - 1
	out := make([][]int32, cfg.Count)
	err = parallel(ctx, cfg.Count, func(ctx context.Context, i int) error {
		p := engine.SamplingParams{Temperature: 1, Seed: cfg.Seed + uint64(i)}
		gen, err := r.generate(ctx, bos, n, p)
		out[i] = append(bos[:1:1], gen...)
		return err
	})
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("eval: sampling: %w", err)
	}
	return out, nil
}
