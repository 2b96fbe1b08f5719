package serve

import (
	"math"
	"strings"
	"testing"
)

func TestParsePrefixCache(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want PrefixCacheCounters
		ok   bool
	}{
		{"vLLM counters summed over labels", `# HELP vllm:prefix_cache_queries Prefix cache queries, in tokens.
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries_total{engine="0",model_name="a"} 1200
vllm:prefix_cache_queries_total{engine="1",model_name="a"} 300
vllm:prefix_cache_hits_total{engine="0",model_name="a"} 900
vllm:prefix_cache_hits_total{engine="1",model_name="a"} 1.5e2
vllm:prefix_cache_hits_created{engine="0"} 1.7e9
`, PrefixCacheCounters{Queries: 1500, Hits: 1050}, true},
		{"no suffix, no labels", "vllm:prefix_cache_queries 10\nvllm:prefix_cache_hits 4\n", PrefixCacheCounters{Queries: 10, Hits: 4}, true},
		{"a label value with a brace and a space", `vllm:prefix_cache_hits{x="a} b"} 7` + "\n", PrefixCacheCounters{Hits: 7}, true},
		{"absent", "vllm:num_requests_running 2\nvllm:prefix_cache_queries_other 5\n", PrefixCacheCounters{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parsePrefixCache(strings.NewReader(tc.text))
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCacheUse(t *testing.T) {
	known := func(prompt, cached int) Measurement {
		return Measurement{PromptTokens: prompt, CachedTokens: cached, CachedKnown: true}
	}
	before, after := PrefixCacheCounters{Queries: 100, Hits: 10}, PrefixCacheCounters{Queries: 300, Hits: 160}
	for _, tc := range []struct {
		name    string
		ms      []Measurement
		after   PrefixCacheCounters
		scraped bool
		share   float64 // -1: n/a
		source  string
		tokens  int
	}{
		{"usage of every success", []Measurement{known(100, 25), known(100, 75), {Err: "x"}}, after, true, 0.5, CachedFromUsage, 100},
		{"one response without it: the counters", []Measurement{known(100, 25), {PromptTokens: 100}}, after, true, 0.75, CachedFromMetrics, 150},
		{"neither", []Measurement{{PromptTokens: 100}}, after, false, -1, "", 0},
		{"counters that did not move", []Measurement{{PromptTokens: 100}}, before, true, -1, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := cacheUse(tc.ms, before, tc.after, tc.scraped)
			if tc.share < 0 {
				if u.Share != nil || u.String() != "n/a" {
					t.Errorf("%+v, want n/a", u)
				}
				return
			}
			if u.Share == nil || math.Abs(*u.Share-tc.share) > 1e-12 || u.Source != tc.source || u.Tokens != tc.tokens {
				t.Errorf("%+v, want share %v from %s, %d tokens", u, tc.share, tc.source, tc.tokens)
			}
		})
	}
}

func TestSendReadsCachedTokens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		known bool
		n     int
	}{
		{"openai usage", `{"choices":[{"text":"x"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":8}}}`, true, 8},
		{"llama.cpp timings", `{"choices":[{"text":"x"}],"usage":{"prompt_tokens":9,"completion_tokens":1},"timings":{"cache_n":6,"prompt_n":5}}`, true, 6},
		{"llama.cpp timings without prompt tokens", `{"choices":[{"text":"x"}],"usage":{"completion_tokens":1},"timings":{"cache_n":6,"prompt_n":3}}`, true, 6},
		{"zero is known", `{"choices":[{"text":"x"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}}`, true, 0},
		{"details without the field", `{"choices":[{"text":"x"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{}}}`, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Measurement
			if err := readWhole(strings.NewReader(tc.body), &m); err != nil {
				t.Fatal(err)
			}
			if m.CachedKnown != tc.known || m.CachedTokens != tc.n || m.Text != "x" || m.PromptTokens != 9 {
				t.Errorf("%+v", m)
			}
		})
	}
}
