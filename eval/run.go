package eval

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"sieve/engine"
	"sieve/kernels"
	"sieve/kvcache"
	"sieve/model"
	"sieve/sparsity"
	"sieve/tokenizer"
)

// DefaultParallel is how many sequences an evaluation runs at once.
const DefaultParallel = 16

// KVTypes are the storage types of the KV cache an evaluation runs on, by
// name (engine.ParseKVDType); an empty name is f32, the exact reference.
type KVTypes struct {
	Key, Value string
}

// parse returns the key and value types.
func (t KVTypes) parse() (k, v kernels.DType, err error) {
	name := func(s string) string {
		if s == "" {
			return "f32"
		}
		return s
	}
	if k, err = engine.ParseKVDType(name(t.Key)); err != nil {
		return 0, 0, fmt.Errorf("eval: %w", err)
	}
	if v, err = engine.ParseKVDType(name(t.Value)); err != nil {
		return 0, 0, fmt.Errorf("eval: %w", err)
	}
	return k, v, nil
}

// String names the types: "q8_0", or "q8_0/f16" for keys and values apart.
func (t KVTypes) String() string {
	k, v, err := t.parse()
	if err != nil {
		return "invalid"
	}
	if k == v {
		return k.String()
	}
	return k.String() + "/" + v.String()
}

// runner is the engine an evaluation runs its sequences on: a KV cache (F32
// unless KVTypes say otherwise) with room for every running sequence's
// whole context, so that nothing is ever preempted (a preempted sequence
// would rebuild its cache by a prefill and lose its eviction history), and
// no prefix caching, so that each policy is measured on its own: a sparse
// sequence that found its prompt's prefix cached by another one would
// compress that dense prefix at once, and its results would depend on the
// order the sequences ran in.
type runner struct {
	e   *engine.Engine
	sem chan struct{}
}

// newRunner starts an engine for m with spec as its default sparsity
// (requests override policy and budget), threads kernel threads (0: all
// CPUs) and room for parallel sequences at once.
func newRunner(m *model.Model, spec sparsity.Spec, threads, parallel int, kv KVTypes) (*runner, error) {
	return newRunnerFor(m, spec, threads, parallel, m.Config.ContextLen, kv)
}

// newRunnerFor is newRunner with room for sequences of at most seqLen
// tokens each.
func newRunnerFor(m *model.Model, spec sparsity.Spec, threads, parallel, seqLen int, kv KVTypes) (*runner, error) {
	return newRunnerWith(m, nil, spec, threads, parallel, seqLen, kv)
}

// newRunnerWith is newRunnerFor with the engine given tok, which gives it
// the model's end-of-sequence tokens and lets requests carry stop strings.
func newRunnerWith(m *model.Model, tok tokenizer.Tokenizer, spec sparsity.Spec, threads, parallel, seqLen int, kv KVTypes) (*runner, error) {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	kt, vt, err := kv.parse()
	if err != nil {
		return nil, err
	}
	c := m.Config
	bytes := kvcache.BytesForKV(c, min(seqLen, c.ContextLen), kvcache.DefaultBlockSize, kt, vt) * int64(parallel)
	cfg := engine.Config{
		Threads:      threads,
		KVKeyDType:   kt.String(),
		KVValueDType: vt.String(),
		KVCacheMiB:   int(bytes>>20) + 1,
		BlockSize:    kvcache.DefaultBlockSize,
		MaxSeqs:      parallel,
		KV:           spec,

		DisablePrefixCaching: true,
	}
	e, err := engine.New(m, tok, cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	return &runner{e: e, sem: make(chan struct{}, parallel)}, nil
}

// close shuts the engine down and reports whether any sequence was
// preempted, which would have made the results wrong.
func (r *runner) close() error {
	err := r.e.Close(context.Background())
	if n := r.e.Stats().Preemptions; n > 0 && err == nil {
		err = fmt.Errorf("eval: %d sequences were preempted; their eviction history was lost", n)
	}
	return err
}

// forced teacher-forces seq (BOS first) under the policy and budget ("" and
// 0: the engine's default) and calls step(i, logits) with the raw logits
// that predict seq[i], for i from 1 to len(seq)-1 in order. It returns the
// request's final usage.
func (r *runner) forced(ctx context.Context, seq []int32, policy string, budget float64, step func(i int, logits []float32)) (engine.Usage, error) {
	if len(seq) < 2 {
		return engine.Usage{}, fmt.Errorf("eval: a sequence of %d tokens has nothing to score", len(seq))
	}
	req := engine.Request{
		Prompt:       seq[:1],
		Forced:       seq[1:],
		MaxTokens:    len(seq) - 1,
		IgnoreEOS:    true,
		ReturnLogits: true,
		KVPolicy:     policy,
		KVBudget:     budget,
	}
	i := 1
	usage, err := r.submit(ctx, req, func(ev engine.Event) {
		for _, row := range ev.Logits {
			if i < len(seq) {
				step(i, row)
			}
			i++
		}
	})
	if err == nil && i < len(seq) {
		err = fmt.Errorf("eval: the engine returned logits for %d of %d forced tokens", i-1, len(seq)-1)
	}
	return usage, err
}

// generate runs prompt under full and returns the n tokens it generates with
// params.
func (r *runner) generate(ctx context.Context, prompt []int32, n int, params engine.SamplingParams) ([]int32, error) {
	req := engine.Request{
		Prompt:    prompt,
		MaxTokens: n,
		IgnoreEOS: true,
		Params:    params,
		KVPolicy:  string(sparsity.Full),
	}
	var out []int32
	_, err := r.submit(ctx, req, func(ev engine.Event) { out = append(out, ev.Tokens...) })
	if err == nil && len(out) != n {
		err = fmt.Errorf("eval: generated %d tokens, want %d", len(out), n)
	}
	return out, err
}

// submit runs one request, holding one of the runner's places while it
// runs, and calls each for every event. It returns the final usage.
func (r *runner) submit(ctx context.Context, req engine.Request, each func(engine.Event)) (engine.Usage, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return engine.Usage{}, ctx.Err()
	}
	defer func() { <-r.sem }()
	ch, err := r.e.Submit(ctx, req)
	if err != nil {
		return engine.Usage{}, fmt.Errorf("eval: %w", err)
	}
	var last engine.Event
	for ev := range ch {
		each(ev)
		last = ev
	}
	switch last.Finish {
	case engine.FinishLength, engine.FinishStop:
		return last.Usage, nil
	case engine.FinishCancelled:
		if err := ctx.Err(); err != nil {
			return last.Usage, err
		}
		return last.Usage, errors.New("eval: the engine cancelled the request")
	}
	if last.Err == nil {
		return last.Usage, fmt.Errorf("eval: request ended with %q", last.Finish)
	}
	return last.Usage, fmt.Errorf("eval: request failed: %w", last.Err)
}

// parallel runs f(ctx, 0), ..., f(ctx, n-1) concurrently and returns the
// first error by index; the first failure cancels the others' context. The
// runner bounds how many sequences actually run at once.
func parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if errs[i] = f(ctx, i); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
