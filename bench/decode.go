// Package bench measures Sieve's speed: single- and multi-sequence prefill
// and decode throughput of the forward pass, and offline serving throughput
// of the engine.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"sieve/internal/stats"
	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
)

// DecodeConfig describes a forward-pass benchmark in the style of
// llama-bench: Prompt tokens of prefill, then Gen tokens of decode, each
// measured after a context of Depth tokens has been filled, for Batch
// sequences at once, Repeats times. As llama-bench does, an untimed
// warm-up pass runs first.
type DecodeConfig struct {
	Prompt  int    `json:"prompt"` // tokens prefilled in the timed prefill run (0: skip)
	Gen     int    `json:"gen"`    // decode steps in the timed decode run (0: skip)
	Depth   int    `json:"depth"`  // context tokens filled before each timed run
	Batch   int    `json:"batch"`  // sequences decoded together
	Repeats int    `json:"repeats"`
	Chunk   int    `json:"chunk"` // prefill chunk size (tokens per forward pass)
	Seed    uint64 `json:"seed"`
}

// Cache is a KV cache the benchmark can drive: attention plus reserving
// room for n more tokens of a sequence before a forward pass. A Cache that
// is also an Evicter is compacted after every forward pass.
type Cache interface {
	llama.Attention
	Reserve(seq int32, n int) error
}

// CacheFactory makes a fresh KV cache for seqs sequences of up to ctx tokens
// and returns it with the sequences' ids.
type CacheFactory func(seqs, ctx int) (Cache, []int32, error)

// DecodeResult holds the medians and every repeat's figures (tokens per
// second, summed over the batch).
type DecodeResult struct {
	PrefillTokS float64   `json:"prefill_tok_s"`
	DecodeTokS  float64   `json:"decode_tok_s"`
	Prefill     []float64 `json:"prefill_runs_tok_s"`
	Decode      []float64 `json:"decode_runs_tok_s"`
}

// Decode runs the benchmark.
func Decode(ctx context.Context, m *model.Model, pool *kernels.Pool, cfg DecodeConfig, newCache CacheFactory) (DecodeResult, error) {
	var res DecodeResult
	c := m.Config
	if cfg.Batch < 1 || cfg.Repeats < 1 || cfg.Chunk < 1 {
		return res, fmt.Errorf("bench: batch, repeats and chunk must be at least 1")
	}
	if need := cfg.Depth + max(cfg.Prompt, cfg.Gen); need > c.ContextLen {
		return res, fmt.Errorf("bench: depth %d + %d tokens exceed the model's context of %d", cfg.Depth, max(cfg.Prompt, cfg.Gen), c.ContextLen)
	}
	runner := llama.NewRunner(m, pool, max(cfg.Chunk, cfg.Batch))
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	tokens := func(n int) []int32 {
		t := make([]int32, n)
		for i := range t {
			t[i] = int32(rng.IntN(c.VocabSize))
		}
		return t
	}
	ctxLen := cfg.Depth + max(cfg.Prompt, cfg.Gen)
	if err := warmUp(ctx, runner, newCache); err != nil {
		return res, err
	}
	for r := 0; r < cfg.Repeats; r++ {
		if cfg.Prompt > 0 {
			cache, ids, err := newCache(1, ctxLen)
			if err != nil {
				return res, err
			}
			if err := fill(ctx, runner, cache, ids[0], tokens(cfg.Depth), 0, cfg.Chunk); err != nil {
				return res, err
			}
			start := time.Now()
			if err := fill(ctx, runner, cache, ids[0], tokens(cfg.Prompt), cfg.Depth, cfg.Chunk); err != nil {
				return res, err
			}
			res.Prefill = append(res.Prefill, float64(cfg.Prompt)/time.Since(start).Seconds())
		}
		if cfg.Gen > 0 {
			cache, ids, err := newCache(cfg.Batch, ctxLen)
			if err != nil {
				return res, err
			}
			for _, id := range ids {
				if err := fill(ctx, runner, cache, id, tokens(cfg.Depth), 0, cfg.Chunk); err != nil {
					return res, err
				}
			}
			var b llama.Batch
			start := time.Now()
			for g := 0; g < cfg.Gen; g++ {
				if err := ctx.Err(); err != nil {
					return res, err
				}
				b.Reset()
				for _, id := range ids {
					if err := cache.Reserve(id, 1); err != nil {
						return res, err
					}
					b.Add(int32(rng.IntN(c.VocabSize)), int32(cfg.Depth+g), id, true)
				}
				if _, err := runner.Forward(&b, cache); err != nil {
					return res, err
				}
				evict(cache, ids...)
			}
			res.Decode = append(res.Decode, float64(cfg.Gen*cfg.Batch)/time.Since(start).Seconds())
		}
	}
	res.PrefillTokS = stats.Median(res.Prefill)
	res.DecodeTokS = stats.Median(res.Decode)
	return res, nil
}

// warmUp runs one untimed forward pass of one token, which reads every
// weight matrix once: the first timed run then does not pay for faulting
// the mapped model file into memory.
func warmUp(ctx context.Context, r *llama.Runner, newCache CacheFactory) error {
	cache, ids, err := newCache(1, 1)
	if err != nil {
		return err
	}
	return fill(ctx, r, cache, ids[0], []int32{0}, 0, 1)
}

// fill prefills toks into sequence seq starting at position from, in chunks.
func fill(ctx context.Context, r *llama.Runner, att Cache, seq int32, toks []int32, from, chunk int) error {
	var b llama.Batch
	for s := 0; s < len(toks); s += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := att.Reserve(seq, min(chunk, len(toks)-s)); err != nil {
			return err
		}
		b.Reset()
		for i := s; i < min(s+chunk, len(toks)); i++ {
			b.Add(toks[i], int32(from+i), seq, i == len(toks)-1)
		}
		if _, err := r.Forward(&b, att); err != nil {
			return err
		}
		evict(att, seq)
	}
	return nil
}

// evict compacts the sequences when the cache evicts.
func evict(c Cache, seqs ...int32) {
	if ev, ok := c.(Evicter); ok {
		for _, s := range seqs {
			ev.Evict(s)
		}
	}
}
