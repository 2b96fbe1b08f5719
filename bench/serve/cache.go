package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"sieve/bench/soak"
)

// Where a run's cached share of prompt tokens came from.
const (
	CachedFromUsage   = "usage"   // usage.prompt_tokens_details.cached_tokens of every response
	CachedFromMetrics = "metrics" // the growth of vllm:prefix_cache_hits over vllm:prefix_cache_queries
)

// PrefixCacheCounters are a server's prefix-cache counters, in tokens.
type PrefixCacheCounters struct {
	Queries, Hits float64
}

// ScrapePrefixCache reads vllm:prefix_cache_queries and
// vllm:prefix_cache_hits (with or without the _total suffix, summed over
// their labels) from the server's /metrics. ok is false when the server
// exports neither or does not answer.
func (c *Client) ScrapePrefixCache(ctx context.Context) (PrefixCacheCounters, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.t.URL+"/metrics", nil)
	if err != nil {
		return PrefixCacheCounters{}, false
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return PrefixCacheCounters{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return PrefixCacheCounters{}, false
	}
	return parsePrefixCache(resp.Body)
}

// parsePrefixCache reads the prefix-cache counters from Prometheus text.
func parsePrefixCache(r io.Reader) (PrefixCacheCounters, bool) {
	var pc PrefixCacheCounters
	seen, err := soak.SumSeries(r, map[string]*float64{
		"vllm:prefix_cache_queries": &pc.Queries, "vllm:prefix_cache_queries_total": &pc.Queries,
		"vllm:prefix_cache_hits": &pc.Hits, "vllm:prefix_cache_hits_total": &pc.Hits,
	})
	return pc, err == nil && len(seen) > 0
}

// CacheUse is how much of a run's prompt came from the server's prefix
// cache.
type CacheUse struct {
	// Tokens is the prompt tokens served from cache (from the usage, or
	// the counters' growth); Share is Tokens over all prompt tokens. Share
	// is nil when the server reported neither.
	Tokens int      `json:"cached_prompt_tokens"`
	Share  *float64 `json:"cached_prompt_share"`
	// Source is CachedFromUsage, CachedFromMetrics or empty (n/a).
	Source string `json:"cached_from,omitempty"`
}

// String formats the share as a percentage with its source, or "n/a".
func (u CacheUse) String() string {
	if u.Share == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%% (%s)", 100**u.Share, u.Source)
}

// cacheUse works out the cached share of ms's prompt tokens: from the usage
// when every successful response reported cached tokens, else from the
// counters scraped before and after the run (both ok), else n/a.
func cacheUse(ms []Measurement, before, after PrefixCacheCounters, scraped bool) CacheUse {
	var cached, prompt, ok int
	known := true
	for _, m := range ms {
		if !m.OK() {
			continue
		}
		ok++
		cached += m.CachedTokens
		prompt += m.PromptTokens
		known = known && m.CachedKnown
	}
	switch {
	case ok > 0 && known && prompt > 0:
		s := float64(cached) / float64(prompt)
		return CacheUse{Tokens: cached, Share: &s, Source: CachedFromUsage}
	case scraped && after.Queries > before.Queries:
		hits := after.Hits - before.Hits
		s := hits / (after.Queries - before.Queries)
		return CacheUse{Tokens: int(hits + 0.5), Share: &s, Source: CachedFromMetrics}
	}
	return CacheUse{}
}
