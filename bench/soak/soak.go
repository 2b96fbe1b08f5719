// Package soak is Sieve's soak test: mixed, partly hostile traffic against
// an OpenAI-compatible server for a while, then a check through /metrics
// that the server drained back to where it started (every KV block free,
// nothing running, goroutines back to their baseline).
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"sieve/internal/stats"
)

// Config describes a soak.
type Config struct {
	URL         string
	APIKey      string
	Model       string // model field of requests; empty sends none
	Duration    time.Duration
	Concurrency int // clients sending back to back
	// ContextLen is the server's context length, for over-context prompts;
	// 0 asks GET /v1/models (max_model_len).
	ContextLen int
	// Shares of the traffic: malformed requests, prompts over the
	// context, and streams the client hangs up on mid-way.
	MalformedShare, OverContextShare, DisconnectShare float64
	MaxTokens, MaxPromptWords                         int
	// Policies are drawn for kv_policy ("" sends none), and Budgets for
	// the kv_budget of the sparse ones; they must suit the shortest
	// request (a fraction would not).
	Policies []string
	Budgets  []float64
	// DrainTimeout bounds the wait for the server to drain after the
	// traffic; GoroutineSlack is how far above the baseline the
	// goroutines may stay.
	DrainTimeout   time.Duration
	GoroutineSlack int
	Seed           uint64
	// Progress, when set, gets a status line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// DefaultConfig is the mix the soak sends unless told otherwise.
func DefaultConfig() Config {
	return Config{
		Duration: time.Minute, Concurrency: 8,
		MalformedShare: 0.05, OverContextShare: 0.03, DisconnectShare: 0.2,
		MaxTokens: 64, MaxPromptWords: 48,
		Policies:     []string{"", "full", "window", "h2o", "snapkv", "pyramid", "layered"},
		Budgets:      []float64{48, 64, 128},
		DrainTimeout: 30 * time.Second, GoroutineSlack: 3, Seed: 1,
		ProgressEvery: 10 * time.Second,
	}
}

// Report is a soak's outcome.
type Report struct {
	URL          string          `json:"url"`
	DurationS    float64         `json:"duration_s"`
	Concurrency  int             `json:"concurrency"`
	Requests     int             `json:"requests"`
	Outcomes     map[Outcome]int `json:"outcomes"`
	LatencyP50Ms float64         `json:"latency_p50_ms"` // of requests answered in full
	LatencyP99Ms float64         `json:"latency_p99_ms"`
	Before       Sample          `json:"before"`
	After        Sample          `json:"after"` // after the drain
	DrainS       float64         `json:"drain_s"`
	// FailureSamples are a few of the failures' details.
	FailureSamples []string `json:"failure_samples,omitempty"`
	// Problems are the reasons the soak failed; none means it passed.
	Problems []string `json:"problems,omitempty"`
}

// Passed reports whether the server held.
func (r Report) Passed() bool { return len(r.Problems) == 0 }

// Run soaks cfg.URL and reports. It fails only when the soak cannot run at
// all (no /metrics, no model); a server that does not hold is reported in
// the Report's Problems.
func Run(ctx context.Context, cfg Config) (Report, error) {
	rep := Report{URL: cfg.URL, Concurrency: cfg.Concurrency, Outcomes: map[Outcome]int{}}
	if cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.MaxTokens < 1 || cfg.MaxPromptWords < 1 {
		return rep, errors.New("soak: concurrency, duration, max tokens and prompt words must be positive")
	}
	for _, share := range []float64{cfg.MalformedShare, cfg.OverContextShare, cfg.DisconnectShare, cfg.MalformedShare + cfg.OverContextShare} {
		if share < 0 || share > 1 {
			return rep, errors.New("soak: the shares of malformed, over-context and disconnected requests must lie in [0, 1], the first two together too")
		}
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	if cfg.ContextLen == 0 {
		n, err := contextLen(ctx, probe, cfg)
		if err != nil {
			return rep, err
		}
		cfg.ContextLen = n
	}
	before, err := scrape(ctx, probe, cfg.URL)
	if err != nil {
		return rep, err
	}
	rep.Before = before

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Concurrency
	traffic := &http.Client{Transport: tr}
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var mu sync.Mutex
	var lat []float64
	record := func(o Outcome, detail string, ms float64) {
		mu.Lock()
		defer mu.Unlock()
		rep.Requests++
		rep.Outcomes[o]++
		if o == OK {
			lat = append(lat, ms)
		}
		if o.Failed() && len(rep.FailureSamples) < 10 {
			rep.FailureSamples = append(rep.FailureSamples, string(o)+": "+detail)
		}
	}
	var wg sync.WaitGroup
	for c := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := planner{rng: rand.New(rand.NewPCG(cfg.Seed, uint64(c))), cfg: cfg, contextLen: cfg.ContextLen}
			for tctx.Err() == nil {
				t := time.Now()
				o, detail := send(tctx, traffic, cfg.URL, cfg.APIKey, p.next())
				if o != "" {
					record(o, detail, since(t))
				}
			}
		}()
	}
	stopProgress := progress(cfg, start, &mu, &rep)
	wg.Wait()
	stopProgress()
	rep.DurationS = time.Since(start).Seconds()
	rep.LatencyP50Ms, rep.LatencyP99Ms = stats.Percentile(lat, 50), stats.Percentile(lat, 99)
	traffic.CloseIdleConnections()

	drainStart := time.Now()
	rep.After, err = drain(ctx, probe, cfg, before)
	rep.DrainS = time.Since(drainStart).Seconds()
	if err != nil {
		return rep, err
	}
	rep.Problems = problems(rep, cfg)
	return rep, nil
}

// drain polls /metrics until the server is idle with every block free and
// its goroutines back to the baseline, or the drain timeout passes; it
// returns the last sample.
func drain(ctx context.Context, hc *http.Client, cfg Config, before Sample) (Sample, error) {
	deadline := time.Now().Add(cfg.DrainTimeout)
	for {
		s, err := scrape(ctx, hc, cfg.URL)
		if err != nil {
			return s, err
		}
		idle := s.KVBlocksUsed == 0 && s.Running == 0 && s.Waiting == 0
		if idle && s.Goroutines <= before.Goroutines+float64(cfg.GoroutineSlack) || time.Now().After(deadline) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// problems lists why the soak failed.
func problems(rep Report, cfg Config) []string {
	var out []string
	failed := 0
	for o, n := range rep.Outcomes {
		if o.Failed() {
			failed += n
		}
	}
	if failed > 0 {
		out = append(out, fmt.Sprintf("%d requests failed on the server's side", failed))
	}
	if rep.Outcomes[OK] == 0 {
		out = append(out, "no request was answered in full")
	}
	a := rep.After
	if len(a.Missing) > 0 {
		out = append(out, "/metrics lacks "+strings.Join(a.Missing, ", "))
	}
	if a.KVBlocksUsed != 0 {
		out = append(out, fmt.Sprintf("%g KV blocks still in use after the drain", a.KVBlocksUsed))
	}
	if a.Running != 0 || a.Waiting != 0 {
		out = append(out, fmt.Sprintf("%g requests running and %g waiting after the drain", a.Running, a.Waiting))
	}
	if a.Goroutines > rep.Before.Goroutines+float64(cfg.GoroutineSlack) {
		out = append(out, fmt.Sprintf("%g goroutines after the drain, %g before", a.Goroutines, rep.Before.Goroutines))
	}
	return out
}

// progress writes a status line every cfg.ProgressEvery until stopped.
func progress(cfg Config, start time.Time, mu *sync.Mutex, rep *Report) (stop func()) {
	if cfg.Progress == nil || cfg.ProgressEvery <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mu.Lock()
				fmt.Fprintf(cfg.Progress, "soak %s/%s: %d requests, %s\n", time.Since(start).Round(time.Second), cfg.Duration,
					rep.Requests, outcomeList(rep.Outcomes))
				mu.Unlock()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// outcomeList prints outcome counts in a fixed order.
func outcomeList(m map[Outcome]int) string {
	var parts []string
	for _, o := range []Outcome{OK, Disconnected, Refused, Busy, ServerError, Unexpected, Transport} {
		if n := m[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	return strings.Join(parts, ", ")
}
