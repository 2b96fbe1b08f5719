package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"sieve/engine"
)

// engineCollector exports the engine's Stats, read once per scrape.
type engineCollector struct {
	stats func() (engine.Stats, bool)

	running, waiting, kvUsage, gpuUsage    *prometheus.Desc
	blocksUsed, blocksTotal, layerBlocks   *prometheus.Desc
	capacityTokens                         *prometheus.Desc
	prompt, generated, preempt, recomputed *prometheus.Desc
	steps, evictions, evicted, freed       *prometheus.Desc
	cacheQueries, cacheHits, resumed       *prometheus.Desc
	prefill, blocksCached                  *prometheus.Desc
}

// newEngineCollector describes the engine metrics, labelled with the model.
func newEngineCollector(modelName string, stats func() (engine.Stats, bool)) *engineCollector {
	model := prometheus.Labels{"model_name": modelName}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, model)
	}
	return &engineCollector{
		stats:       stats,
		running:     d("vllm:num_requests_running", "Number of requests being generated."),
		waiting:     d("vllm:num_requests_waiting", "Number of requests waiting to be admitted (preempted ones included)."),
		kvUsage:     d("vllm:kv_cache_usage_perc", "Fraction of the KV cache block pool in use (1 means 100 percent)."),
		gpuUsage:    d("vllm:gpu_cache_usage_perc", "Fraction of the KV cache block pool in use; older name of vllm:kv_cache_usage_perc."),
		blocksUsed:  d("sieve_kv_blocks_used", "KV cache blocks held by sequences."),
		blocksTotal: d("sieve_kv_blocks_total", "KV cache blocks in the pool."),
		layerBlocks: d("sieve_kv_layer_blocks", "KV cache blocks held, per layer.", "layer"),
		capacityTokens: d("sieve_kv_cache_capacity_tokens",
			"Token slots the KV cache pool holds in every layer: the longest dense context of one sequence alone."),
		prompt:     d("sieve_engine_prompt_tokens_total", "Prompt tokens of requests past their prefill, prefix-cached ones included (once per request)."),
		generated:  d("sieve_engine_generation_tokens_total", "Tokens sampled by the engine."),
		preempt:    d("sieve_engine_preemptions_total", "Sequences preempted for lack of KV blocks."),
		recomputed: d("sieve_engine_recomputed_tokens_total", "Tokens dropped by preemption and prefilled again."),
		steps:      d("sieve_engine_steps_total", "Forward passes run by the engine."),
		evictions:  d("sieve_kv_evictions_total", "Per-layer KV evictions by sparsity policies."),
		evicted:    d("sieve_kv_evicted_tokens_total", "KV entries evicted by sparsity policies, summed over layers."),
		freed:      d("sieve_kv_blocks_freed_total", "KV blocks returned to the pool by eviction."),
		cacheQueries: d("vllm:prefix_cache_queries_total",
			"Prompt tokens looked up in the prefix cache (once per request)."),
		cacheHits: d("vllm:prefix_cache_hits_total",
			"Prompt tokens served from the prefix cache instead of prefilled."),
		resumed: d("sieve_prefix_cache_resumed_tokens_total",
			"Tokens resumed from a finished sparse sequence's compressed KV state (not implemented yet: 0)."),
		prefill: d("sieve_engine_prefill_tokens_total",
			"Tokens the engine actually prefilled: prompt tokens not served from the prefix cache, and recomputed ones."),
		blocksCached: d("sieve_kv_blocks_cached", "KV cache blocks held by the prefix cache (reclaimable when no sequence holds them)."),
	}
}

// Describe implements prometheus.Collector.
func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.running, c.waiting, c.kvUsage, c.gpuUsage, c.blocksUsed, c.blocksTotal,
		c.layerBlocks, c.capacityTokens, c.prompt, c.generated, c.preempt, c.recomputed, c.steps, c.evictions, c.evicted, c.freed,
		c.cacheQueries, c.cacheHits, c.resumed, c.prefill, c.blocksCached} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Before the model is loaded the
// gauges read zero and the per-layer series are absent.
func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	s, _ := c.stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(c.running, float64(s.Running))
	gauge(c.waiting, float64(s.Waiting))
	gauge(c.kvUsage, s.KVUsage)
	gauge(c.gpuUsage, s.KVUsage)
	gauge(c.blocksUsed, float64(s.KVBlocksUsed))
	gauge(c.blocksTotal, float64(s.KVBlocksTotal))
	gauge(c.capacityTokens, float64(s.KVCapacityTokens))
	for i, n := range s.KVLayerBlocks {
		gauge(c.layerBlocks, float64(n), strconv.Itoa(i))
	}
	counter(c.prompt, s.PromptTokens)
	counter(c.generated, s.GenerationTokens)
	counter(c.preempt, s.Preemptions)
	counter(c.recomputed, s.RecomputedTokens)
	counter(c.steps, s.Steps)
	counter(c.evictions, s.Evictions)
	counter(c.evicted, s.EvictedTokens)
	counter(c.freed, s.BlocksFreed)
	counter(c.cacheQueries, s.PrefixCacheQueries)
	counter(c.cacheHits, s.PrefixCacheHits)
	counter(c.resumed, s.ResumedTokens)
	counter(c.prefill, s.PrefillTokens)
	gauge(c.blocksCached, float64(s.KVBlocksCached))
}
