package replicas

import (
	"context"
	"net/http"
	"sync"
	"time"

	"sieve/bench/serve"
)

// outcome is one request sent through the balancer.
type outcome struct {
	start, end time.Time
	stream     bool
	serve.Measurement
}

// driveLoad runs workers closed loops of requests against url until ctx
// ends; half the workers stream. Each request has its own deadline, so a
// request that hangs shows up as a failure, not as a stuck test.
func driveLoad(ctx context.Context, url, model string, workers int, p serve.Prompt) []outcome {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers
	hc := &http.Client{Transport: tr}
	var (
		mu   sync.Mutex
		outs []outcome
		wg   sync.WaitGroup
	)
	for i := range workers {
		stream := i%2 == 0
		c := serve.NewClient(serve.Target{URL: url, Model: model, Stream: stream}, hc)
		wg.Go(func() {
			for ctx.Err() == nil {
				reqCtx, cancel := context.WithTimeout(context.Background(), requestTimeout)
				o := outcome{start: time.Now(), stream: stream}
				o.Measurement = c.Send(reqCtx, p)
				o.end = time.Now()
				cancel()
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return outs
}

// between returns the outcomes that started in [from, to).
func between(outs []outcome, from, to time.Time) []outcome {
	var sel []outcome
	for _, o := range outs {
		if !o.start.Before(from) && o.start.Before(to) {
			sel = append(sel, o)
		}
	}
	return sel
}

// summarize gives a phase's figures: counts and end-to-end latencies.
func summarize(outs []outcome, elapsed time.Duration) serve.Result {
	ms := make([]serve.Measurement, len(outs))
	for i, o := range outs {
		ms[i] = o.Measurement
	}
	return serve.Summarize(ms, elapsed)
}
