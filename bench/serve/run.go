// Package serve is Sieve's serving benchmark in the style of vLLM's
// benchmark_serving: it drives any OpenAI-compatible endpoint with a
// workload of prompts at a Poisson request rate or a fixed concurrency and
// reports request throughput, output tokens per second, time to first
// token (TTFT), time per output token (TPOT), inter-token latency (ITL)
// and end-to-end latency.
package serve

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// Load is how requests arrive.
type Load struct {
	// RequestRate is the mean arrival rate in requests per second, with
	// exponential gaps (a Poisson process); +Inf or 0 sends them all at once.
	RequestRate float64
	// MaxConcurrency bounds the requests in flight; 0 means no bound.
	MaxConcurrency int
	Seed           uint64
}

// Result is one benchmark run's figures; latencies are in milliseconds.
type Result struct {
	Label          string         `json:"label"`
	URL            string         `json:"url"`
	Model          string         `json:"model"`
	KVPolicy       string         `json:"kv_policy,omitempty"`
	KVBudget       float64        `json:"kv_budget,omitempty"`
	RequestRate    float64        `json:"request_rate"` // 0: all at once
	MaxConcurrency int            `json:"max_concurrency"`
	NumPrompts     int            `json:"num_prompts"`
	Completed      int            `json:"completed"`
	Failed         int            `json:"failed"`
	Errors         map[string]int `json:"errors,omitempty"` // failure messages and their counts
	DurationS      float64        `json:"duration_s"`
	InputTokens    int            `json:"total_input_tokens"`
	OutputTokens   int            `json:"total_output_tokens"`
	RequestTput    float64        `json:"request_throughput"` // completed requests per second
	OutputTokS     float64        `json:"output_throughput"`  // output tokens per second
	TotalTokS      float64        `json:"total_token_throughput"`
	TTFT           Dist           `json:"ttft_ms"`
	TPOT           Dist           `json:"tpot_ms"`
	ITL            Dist           `json:"itl_ms"`
	E2E            Dist           `json:"e2e_latency_ms"`
	CacheUse
}

// Run sends every prompt to c's target under load and summarises the
// measurements. progress, which may be nil, is told of each finished
// request. Run stops early when ctx ends.
func Run(ctx context.Context, c *Client, prompts []Prompt, load Load, progress *Progress) (Result, error) {
	if err := c.ResolveModel(ctx); err != nil {
		return Result{}, err
	}
	rate := load.RequestRate
	if rate <= 0 || math.IsInf(rate, 1) {
		rate = math.Inf(1)
	}
	arrivals := Arrivals(len(prompts), rate, load.Seed)
	var sem chan struct{}
	if load.MaxConcurrency > 0 {
		sem = make(chan struct{}, load.MaxConcurrency)
	}
	ms := make([]Measurement, len(prompts))
	var wg sync.WaitGroup
	before, scraped := c.ScrapePrefixCache(ctx)
	start := time.Now()
	for i, p := range prompts {
		if !sleepUntil(ctx, start.Add(arrivals[i])) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sem != nil {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
					ms[i].Err = ctx.Err().Error()
					return
				}
			}
			ms[i] = c.Send(ctx, p)
			progress.Done(ms[i].OK())
		}()
	}
	wg.Wait()
	progress.Finish()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("serve bench: %w", err)
	}
	elapsed := time.Since(start)
	after, scrapedAfter := c.ScrapePrefixCache(ctx)
	t := c.Target()
	res := Summarize(ms, elapsed)
	res.CacheUse = cacheUse(ms, before, after, scraped && scrapedAfter)
	res.Label, res.URL, res.Model, res.KVPolicy, res.KVBudget = t.Label, t.URL, t.Model, t.KVPolicy, t.KVBudget
	if !math.IsInf(rate, 1) {
		res.RequestRate = rate
	}
	res.MaxConcurrency = load.MaxConcurrency
	return res, nil
}

// Arrivals are the send times of n requests after the start: all zero at
// an infinite rate, else a Poisson process of the given rate (exponential
// gaps), the first at zero.
func Arrivals(n int, rate float64, seed uint64) []time.Duration {
	at := make([]time.Duration, n)
	if math.IsInf(rate, 1) || rate <= 0 {
		return at
	}
	rng := rand.New(rand.NewPCG(seed, 12))
	for i := 1; i < n; i++ {
		at[i] = at[i-1] + time.Duration(rng.ExpFloat64()/rate*float64(time.Second))
	}
	return at
}

// sleepUntil waits until t; false means ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Summarize computes a run's figures from its measurements and wall time.
// Only successful requests count towards the throughputs and latencies.
func Summarize(ms []Measurement, elapsed time.Duration) Result {
	res := Result{NumPrompts: len(ms), DurationS: elapsed.Seconds()}
	var ttft, tpot, itl, e2e []time.Duration
	for _, m := range ms {
		if !m.OK() {
			res.Failed++
			if res.Errors == nil {
				res.Errors = map[string]int{}
			}
			res.Errors[m.Err]++
			continue
		}
		res.Completed++
		res.InputTokens += m.PromptTokens
		res.OutputTokens += m.OutputTokens
		ttft = append(ttft, m.TTFT)
		if m.OutputTokens > 1 {
			tpot = append(tpot, m.TPOT())
		}
		itl = append(itl, m.ITL...)
		e2e = append(e2e, m.Latency)
	}
	if s := elapsed.Seconds(); s > 0 {
		res.RequestTput = float64(res.Completed) / s
		res.OutputTokS = float64(res.OutputTokens) / s
		res.TotalTokS = float64(res.InputTokens+res.OutputTokens) / s
	}
	res.TTFT, res.TPOT, res.ITL, res.E2E = distOf(ttft), distOf(tpot), distOf(itl), distOf(e2e)
	return res
}

// TopErrors lists a result's failure messages, most frequent first.
func (r Result) TopErrors(n int) []string {
	type kv struct {
		msg string
		n   int
	}
	var all []kv
	for m, c := range r.Errors {
		all = append(all, kv{m, c})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].msg < all[j].msg })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, fmt.Sprintf("%d × %s", all[i].n, all[i].msg))
	}
	return out
}
