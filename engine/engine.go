package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"sieve/kernels"
	"sieve/kvcache"
	"sieve/llama"
	"sieve/model"
	"sieve/tokenizer"
)

// Engine serves generation requests for one model over a paged KV cache.
//
// Scheduling: one goroutine runs steps. Each step drops cancelled
// requests, admits queued ones in arrival order (while fewer than MaxSeqs
// run and the free blocks cover the request's whole prefill beyond what
// running prefills still need), and runs one forward pass over one batch
// of at most MaxBatchTokens tokens: a decode token for every running
// sequence that has finished its prefill, plus prefill chunks, oldest
// sequence first. A sequence's chunks start at the multiples of
// PrefillChunk, so its chunk boundaries depend only on the sequence (a
// chunk that does not fit this step waits for the next; after a
// preemption the recompute chunks again from position 0). When a
// sequence's next tokens find no free blocks, the newest running sequence
// is preempted: its blocks are freed and it goes back to the front of the
// queue, to prefill its prompt and generated tokens again. The oldest
// sequence always fits, since Submit refuses requests the pool could
// never hold, so the engine cannot deadlock.
//
// KV sparsity: each request's policy (Config.KV, overridden by the
// request) is bound at Submit to a sparsity.Plan, one budget per layer.
// After each forward pass, every sequence of the batch is checked layer by
// layer: a sparse layer holding its budget plus a block or more keeps its
// best budget slots (sparsity.Keep) and returns the emptied blocks to the
// pool. Eviction runs between prefill chunks too, so a sparse layer holds
// at most budget + block - 1 + PrefillChunk slots, except under snapkv,
// which compresses once the whole prompt is cached. Admission and Submit's
// fit check count each layer's blocks under that cap. Only layers that
// rank slots by score ask the cache to accumulate attention weights.
//
// Prefix caching (on unless Config.DisablePrefixCaching): after each
// forward pass, every full block a sequence has written enters the KV
// cache's prefix cache (kvcache.Cache.Register), until the sequence's
// first compaction: from then on its keys and values differ from a dense
// run's. Until it feeds its first chunk, an admitted sequence takes, step
// by step, the longest cached run of full blocks its tokens begin with
// (kvcache.Cache.Attach), leaving at least its last token to compute, and
// waits a step when its next block is being computed by an older
// sequence's chunk, so that requests admitted together behind one prompt
// prefill it once. It prefills from there, its chunks still ending at
// multiples of PrefillChunk. Blocks are shared by reference
// count; when a sequence ends, its cached blocks stay in the pool, counted
// as free, until a reservation reclaims them (least recently released
// first), so caching never refuses or preempts a request that would run
// without it: admission still counts a request's whole prefill. A sparse
// sequence reuses the dense prefix too, as far as its layers' caps leave
// room for its next chunk (about its budget; under snapkv the prompt up
// to its observation window, whose queries give its scores); layers that
// accumulate scores take copies of their own, and score from the first
// computed query on. Compaction never rewrites a shared or cached block
// (the cache copies it first); before a sequence compacts, the newest
// running sequences are preempted until the pool has a block for every
// shared one. With policy full a cache hit gives the logits of a run
// without it, bit for bit, and so does window or snapkv; under policies
// that rank heavy hitters, the cached prefix's own queries never vote, so
// the output may differ. See docs/prefix-caching.md.
//
// Events: each request has a channel of eventBuffer events, one of them
// always kept free for the final event. When a reader falls behind, the
// step's output is merged into a pending event, sent once there is room
// (coalescing); the scheduler never blocks on a reader.
//
// Batch invariance: the kernels are batch-invariant by contract (each
// output row depends only on its inputs) and paged attention reads only
// the request's own blocks, so a request's logits are bit-for-bit those of
// a lone run, and with an F32 KV cache those of llama.DenseCache. This
// holds for sparse policies too: a sequence's chunks, and so the steps
// after which it is checked for eviction, depend only on the sequence, and
// the cache sums a sequence's slot scores in an order that depends only on
// that sequence's tokens in the batch. A preempted sequence recomputes its
// keys and values by a prefill; with batch-invariant kernels that
// reproduces them for a dense sequence, but the engine does not promise
// it: kernels whose prefill path rounds differently from their decode path
// would change the logits after a preemption. A sparse sequence's
// recompute attends and evicts chunk by chunk where the first run did so
// token by token, so its later output generally differs after a
// preemption.
//
// The methods of Engine are safe for concurrent use.
type Engine struct {
	cfg    Config
	m      *model.Model
	tok    tokenizer.Tokenizer
	log    *slog.Logger
	pool   *kernels.Pool
	runner *llama.Runner
	cache  *kvcache.Cache
	stop   []int32 // the tokenizer's stop tokens
	// decodable is the tokenizer's vocabulary size when it is smaller than
	// the model's: ids from it on are never sampled (maskUndecodable). 0
	// when every id decodes.
	decodable int

	mu       sync.Mutex
	incoming []*sequence // submitted, not yet taken by the scheduler
	waiting  int         // incoming plus the scheduler's queue
	running  int
	closed   bool // no new requests
	abort    bool // cancel everything now
	nextID   uint64
	wake     chan struct{}
	done     chan struct{} // closed when the scheduler exits
	closeMu  sync.Mutex

	promptTokens, genTokens, preemptions, recomputed, steps atomic.Int64
	decodeTokens, decodeSteps, peakBlocks                   atomic.Int64
	evictions, evictedTokens, blocksFreed                   atomic.Int64
	prefixQueries, prefixHits, resumedTokens, prefillTokens atomic.Int64

	sched scheduler

	// Test hooks, set before the first Submit. beforeForward runs just
	// before each forward pass, afterStep after each step that ran one,
	// and attn, when set, stands in for the cache in forward passes.
	beforeForward func(b *llama.Batch)
	afterStep     func()
	attn          llama.Attention
}

// New starts an engine for m. tok turns tokens into text and gives the stop
// tokens; it may be nil, and then events carry no text, stop strings are
// refused and only MaxTokens ends generation. log may be nil. The engine
// does not close m.
func New(m *model.Model, tok tokenizer.Tokenizer, cfg Config, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := m.Config.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	kt, vt, _ := cfg.kvDTypes()
	bytes, err := kvBytes(cfg, m.Config, kt, vt, log)
	if err != nil {
		return nil, err
	}
	cfg.KVCacheMiB = int((bytes + 1<<20 - 1) >> 20)
	pool := kernels.NewPool(cfg.Threads)
	opt := kvcache.Options{Bytes: bytes, BlockSize: cfg.BlockSize, DType: kt, SplitTypes: kt != vt, ValueDType: vt}
	cache, err := kvcache.New(m.Config, opt, pool)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("engine: %w", err)
	}
	e := &Engine{
		cfg:    cfg,
		m:      m,
		tok:    tok,
		log:    log,
		pool:   pool,
		runner: llama.NewRunner(m, pool, cfg.MaxBatchTokens),
		cache:  cache,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	if tok != nil {
		e.stop = slices.Clone(tok.StopTokens())
		e.decodable = decodableVocab(m.Config.VocabSize, tok.VocabSize(), log)
	}
	log.Info("engine ready", "model", m.Name, "threads", cfg.Threads,
		"kv_blocks", cache.Blocks(), "kv_block_size", cfg.BlockSize, "kv_key_type", kt.String(), "kv_value_type", vt.String(),
		"kv_capacity_tokens", cache.CapacityTokens(),
		"max_batch_tokens", cfg.MaxBatchTokens, "max_seqs", cfg.MaxSeqs, "prefill_chunk", cfg.PrefillChunk,
		"kv_policy", cfg.KV.String(), "prefix_caching", !cfg.DisablePrefixCaching)
	go e.loop()
	return e, nil
}

// kvBytes resolves the KV pool size and logs how it was chosen.
func kvBytes(cfg Config, mc model.Config, kt, vt kernels.DType, log *slog.Logger) (int64, error) {
	if cfg.KVCacheMiB > 0 {
		b := int64(cfg.KVCacheMiB) << 20
		if avail, err := kvcache.MemAvailable(); err == nil && b > avail {
			return 0, fmt.Errorf("%w: a pool of %d MiB, with %d MiB available", ErrKVTooLarge, cfg.KVCacheMiB, avail>>20)
		}
		log.Info("kv cache size", "mib", cfg.KVCacheMiB, "source", "configured")
		return b, nil
	}
	full := kvcache.BytesForKV(mc, mc.ContextLen, cfg.BlockSize, kt, vt) * int64(cfg.MaxSeqs)
	avail, err := kvcache.MemAvailable()
	if err != nil {
		const fallback = 1 << 30
		b := min(full, fallback)
		log.Warn("kv cache size: available memory unknown", "err", err, "mib", b>>20)
		return b, nil
	}
	share := int64(float64(avail) * kvcache.DefaultRAMShare)
	b := min(full, share)
	log.Info("kv cache size", "mib", b>>20, "source", "default",
		"rule", fmt.Sprintf("%.0f%% of MemAvailable (%d MiB), capped at %d full contexts (%d MiB)",
			100*kvcache.DefaultRAMShare, avail>>20, cfg.MaxSeqs, full>>20))
	return b, nil
}

// MaxSequenceTokens is the longest sequence the KV pool can hold with
// every layer dense, alone in the pool: each layer of a sequence of n
// tokens takes ceil(n / BlockSize) blocks of the shared pool.
func (e *Engine) MaxSequenceTokens() int {
	return e.cache.Blocks() / e.m.Config.Layers * e.cfg.BlockSize
}

// Config returns the engine's configuration with the defaults filled in
// (KVCacheMiB is the pool size in use, rounded up).
func (e *Engine) Config() Config { return e.cfg }

// Submit validates and queues r, and returns the channel its events arrive
// on. Events come per step; a reader that falls behind gets fewer, larger
// events (output coalesces), and the scheduler never waits for it. The last
// event has Finish set and the channel is closed after it. When ctx ends,
// the request is cancelled at the next step boundary. Submit returns an
// error wrapping ErrBadRequest, ErrTooLong, ErrQueueFull or ErrClosed, or
// ctx's error.
func (e *Engine) Submit(ctx context.Context, r Request) (<-chan Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := e.newSequence(ctx, r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
		return nil, ErrClosed
	case e.waiting >= e.cfg.MaxWaiting:
		return nil, fmt.Errorf("%w: %d requests waiting", ErrQueueFull, e.waiting)
	}
	q.id = e.nextID
	e.nextID++
	e.incoming = append(e.incoming, q)
	e.waiting++
	e.signal()
	return q.out, nil
}

// newSequence validates r and builds its sequence.
func (e *Engine) newSequence(ctx context.Context, r Request) (*sequence, error) {
	c := e.m.Config
	switch {
	case len(r.Prompt) == 0:
		return nil, fmt.Errorf("%w: empty prompt", ErrBadRequest)
	case r.MaxTokens < 0:
		return nil, fmt.Errorf("%w: max tokens %d", ErrBadRequest, r.MaxTokens)
	case r.TopLogprobs < 0 || r.TopLogprobs > MaxTopLogprobs:
		return nil, fmt.Errorf("%w: top logprobs %d outside [0, %d]", ErrBadRequest, r.TopLogprobs, MaxTopLogprobs)
	case len(r.Stop) > 0 && e.tok == nil:
		return nil, fmt.Errorf("%w: stop strings need a tokenizer", ErrBadRequest)
	case r.Constraint != nil && len(r.Forced) > 0:
		return nil, fmt.Errorf("%w: a constraint with forced tokens", ErrBadRequest)
	}
	if err := checkParams(r.Params); err != nil {
		return nil, err
	}
	if err := checkLogitBias(r.Params.LogitBias, c.VocabSize); err != nil {
		return nil, err
	}
	for _, t := range r.Prompt {
		if t < 0 || int(t) >= c.VocabSize {
			return nil, fmt.Errorf("%w: token %d outside the vocabulary of %d", ErrBadRequest, t, c.VocabSize)
		}
	}
	for _, t := range r.Forced {
		if t < 0 || int(t) >= c.VocabSize {
			return nil, fmt.Errorf("%w: forced token %d outside the vocabulary of %d", ErrBadRequest, t, c.VocabSize)
		}
	}
	maxTokens := r.MaxTokens
	if len(r.Forced) > 0 {
		if maxTokens != 0 && maxTokens < len(r.Forced) {
			return nil, fmt.Errorf("%w: max tokens %d with %d forced tokens", ErrBadRequest, maxTokens, len(r.Forced))
		}
		maxTokens = max(maxTokens, len(r.Forced))
	}
	if maxTokens == 0 {
		maxTokens = c.ContextLen - len(r.Prompt)
	}
	if maxTokens <= 0 || maxTokens > c.ContextLen-len(r.Prompt) { // no sum: MaxTokens may be near the int limit
		return nil, fmt.Errorf("%w: %d prompt tokens + %d to generate > context of %d", ErrTooLong, len(r.Prompt), maxTokens, c.ContextLen)
	}
	total := len(r.Prompt) + maxTokens
	kv, err := e.bindPlan(r, total)
	if err != nil {
		return nil, err
	}
	if need := e.capBlocks(&kv, total); need > e.cache.Blocks() {
		return nil, fmt.Errorf("%w: %d tokens need %d KV blocks, the pool has %d", ErrTooLong, total, need, e.cache.Blocks())
	}
	q := &sequence{
		req:       r,
		ctx:       ctx,
		out:       make(chan Event, eventBuffer),
		tokens:    append(make([]int32, 0, total), r.Prompt...),
		nPrompt:   len(r.Prompt),
		maxTokens: maxTokens,
		cacheSeq:  -1,
		sampler:   NewSampler(r.Params, c.VocabSize),
		kv:        kv,
	}
	q.sampler.Prompt(r.Prompt)
	if e.tok != nil {
		q.stream = NewTextStream(e.tok, r.Prompt[len(r.Prompt)-1], r.Stop)
		if !r.IgnoreEOS && maxTokens > len(r.Forced) {
			q.stop = e.stop
		}
	}
	return q, nil
}

// checkParams rejects sampling parameters outside their ranges.
func checkParams(p SamplingParams) error {
	switch {
	case p.Temperature < 0, p.TopK < 0, p.TopP < 0 || p.TopP > 1, p.MinP < 0 || p.MinP > 1, p.RepetitionPenalty < 0:
		return fmt.Errorf("%w: sampling parameters %+v", ErrBadRequest, p)
	}
	return nil
}

// signal wakes the scheduler. The caller holds e.mu or need not.
func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Close stops admitting requests (Submit returns ErrClosed) and waits for
// the accepted ones to finish. When ctx ends first, it cancels the rest
// (their final event says FinishCancelled), waits for the scheduler to
// stop, and returns ctx's error. Later calls wait likewise.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.signal()
	var err error
	select {
	case <-e.done:
	case <-ctx.Done():
		e.mu.Lock()
		e.abort = true
		e.mu.Unlock()
		e.signal()
		<-e.done
		err = fmt.Errorf("engine: close: %w", ctx.Err())
	}
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.pool != nil {
		e.pool.Close()
		e.pool = nil
	}
	return err
}
