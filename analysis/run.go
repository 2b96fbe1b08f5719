package analysis

import (
	"context"
	"errors"
	"fmt"

	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
	"sieve/sparsity"
)

// Defaults of Options.
const (
	// DefaultTopK is the number of largest values reported.
	DefaultTopK = 20
	// DefaultRatio is the massive-activation threshold: |h| at least this
	// many times the layer's median |h|.
	DefaultRatio = 100
	// DefaultRecent is the width of the recent window whose attention mass
	// is reported.
	DefaultRecent = 64
	// DefaultMapSize is the number of tokens and of dimensions in each
	// layer's magnitude map.
	DefaultMapSize = 12
	// DefaultBlockSize is the eviction block of the replayed sparse
	// layers: the engine's default block size.
	DefaultBlockSize = 16
)

// ErrNoInput is returned when there is nothing to analyse.
var ErrNoInput = errors.New("analysis: no tokens to analyse")

// Options says what Run measures.
type Options struct {
	// TopK is the number of largest |h| values reported (0: DefaultTopK).
	TopK int
	// Ratio is the massive-activation threshold (0: DefaultRatio).
	Ratio float64
	// Attention also collects attention statistics (slower: every weight
	// is recomputed explicitly).
	Attention bool
	// Recent is the recent window of the attention statistics (0:
	// DefaultRecent).
	Recent int
	// MapSize is the side of the per-layer magnitude maps (0:
	// DefaultMapSize).
	MapSize int
	// Sink is the sinks of the replayed sparse layers (0: sparsity's
	// DefaultSink; negative: none).
	Sink int
	// BlockSize is the eviction block of the replayed sparse layers (0:
	// DefaultBlockSize).
	BlockSize int
	// Threads is the number of kernel threads (0: 1).
	Threads int
	// Progress, when set, is called after each layer of each sequence with
	// the layers done and the total.
	Progress func(done, total int)
}

// Result is what Run measured.
type Result struct {
	// Model is the model's name.
	Model string `json:"model"`
	// Sequences and Tokens count the analysed sequences and their tokens.
	Sequences int `json:"sequences"`
	Tokens    int `json:"tokens"`
	// Context is the length of the longest sequence.
	Context     int          `json:"context"`
	Activations *Activations `json:"activations"`
	// Attention is nil unless Options.Attention was set.
	Attention *Attention `json:"attention,omitempty"`
}

// Run feeds each sequence through the model in one forward pass over a
// dense cache and collects the statistics. tok names the tokens in the
// report; it may be nil.
func Run(ctx context.Context, m *model.Model, seqs [][]int32, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	c := m.Config
	longest, total := 0, 0
	for i, s := range seqs {
		if len(s) > c.ContextLen {
			return nil, fmt.Errorf("analysis: sequence %d has %d tokens, over the context length %d", i, len(s), c.ContextLen)
		}
		longest, total = max(longest, len(s)), total+len(s)
	}
	if total == 0 {
		return nil, ErrNoInput
	}
	pool := kernels.NewPool(opts.Threads)
	defer pool.Close()
	runner := llama.NewRunner(m, pool, longest)
	acts := newActCollector(c, m.Tokenizer, opts)
	runner.Observer = acts
	var atts *attnCollector
	if opts.Attention {
		atts = newAttnCollector(c, longest, opts)
	}
	done := 0
	var b llama.Batch
	for i, s := range seqs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(s) == 0 {
			continue
		}
		cache := llama.NewDenseCache(c, pool, 1, len(s))
		if atts != nil {
			atts.start(len(s))
			cache.Weights = atts.weights
		}
		acts.start(i, s, func() {
			done++
			if opts.Progress != nil {
				opts.Progress(done, len(seqs)*c.Layers)
			}
		})
		b.Reset()
		for p, t := range s {
			b.Add(t, int32(p), 0, false)
		}
		if _, err := runner.Forward(&b, cache); err != nil {
			return nil, fmt.Errorf("analysis: sequence %d: %w", i, err)
		}
		if atts != nil {
			atts.finish(acts.massivePositions())
		}
	}
	res := &Result{Model: m.Name, Sequences: len(seqs), Tokens: total, Context: longest, Activations: acts.result()}
	if atts != nil {
		res.Attention = atts.result()
	}
	return res, nil
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.TopK <= 0 {
		o.TopK = DefaultTopK
	}
	if o.Ratio <= 0 {
		o.Ratio = DefaultRatio
	}
	if o.Recent <= 0 {
		o.Recent = DefaultRecent
	}
	if o.MapSize <= 0 {
		o.MapSize = DefaultMapSize
	}
	switch {
	case o.Sink == 0:
		o.Sink = sparsity.DefaultSink
	case o.Sink < 0:
		o.Sink = 0
	}
	if o.BlockSize <= 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	return o
}
