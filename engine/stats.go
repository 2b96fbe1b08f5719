package engine

// Stats is a snapshot of the engine's load and counters.
type Stats struct {
	Running int // sequences admitted and not finished
	Waiting int // requests queued for admission, preempted ones included
	// KV pool usage: blocks held by sequences, blocks in the pool, and
	// their ratio (0–1), plus the blocks held per layer.
	KVBlocksUsed  int
	KVBlocksTotal int
	KVUsage       float64
	KVLayerBlocks []int
	// KVBlocksPeak is the most blocks held at once, reserved ones included.
	KVBlocksPeak int
	// KVCapacityTokens is the token slots the pool holds per layer: the
	// longest dense context it can hold for one sequence.
	KVCapacityTokens int
	// Counters since the engine started.
	PromptTokens     int64 // prompt tokens of requests past their prefill, cached ones included (once per request)
	GenerationTokens int64 // tokens sampled
	Preemptions      int64 // sequences preempted for lack of KV blocks
	RecomputedTokens int64 // tokens dropped by preemption, to prefill again
	Steps            int64 // forward passes
	DecodeTokens     int64 // decode tokens fed (one per decoding sequence per step)
	DecodeSteps      int64 // forward passes with at least one decode token
	// KV eviction: (sequence, layer) compactions, the token slots they
	// dropped, and the blocks they returned to the pool.
	Evictions     int64
	EvictedTokens int64
	BlocksFreed   int64
	// Prefix caching: the prompt tokens looked up in the cache and those
	// found there (vLLM's prefix_cache_queries and prefix_cache_hits;
	// once per request), the tokens fed by prefill (prompt tokens actually
	// computed, recomputation after preemption included), the tokens
	// resumed from a finished sparse sequence's compressed state (not
	// implemented yet: always 0), and the blocks the cache holds.
	PrefixCacheQueries int64
	PrefixCacheHits    int64
	PrefillTokens      int64
	ResumedTokens      int64
	KVBlocksCached     int
}

// Stats returns the engine's current figures.
func (e *Engine) Stats() Stats {
	kv := e.cache.Stats()
	e.mu.Lock()
	st := Stats{Running: e.running, Waiting: e.waiting}
	e.mu.Unlock()
	st.KVBlocksUsed, st.KVBlocksTotal = kv.Used, kv.Blocks
	st.KVUsage = float64(kv.Used) / float64(kv.Blocks)
	st.KVLayerBlocks = kv.LayerUsed
	st.KVCapacityTokens = e.cache.CapacityTokens()
	st.PromptTokens = e.promptTokens.Load()
	st.GenerationTokens = e.genTokens.Load()
	st.Preemptions = e.preemptions.Load()
	st.RecomputedTokens = e.recomputed.Load()
	st.Steps = e.steps.Load()
	st.KVBlocksPeak = int(e.peakBlocks.Load())
	st.DecodeTokens = e.decodeTokens.Load()
	st.DecodeSteps = e.decodeSteps.Load()
	st.Evictions = e.evictions.Load()
	st.EvictedTokens = e.evictedTokens.Load()
	st.BlocksFreed = e.blocksFreed.Load()
	st.PrefixCacheQueries = e.prefixQueries.Load()
	st.PrefixCacheHits = e.prefixHits.Load()
	st.PrefillTokens = e.prefillTokens.Load()
	st.ResumedTokens = e.resumedTokens.Load()
	st.KVBlocksCached = kv.Cached
	return st
}
