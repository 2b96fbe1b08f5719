package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sieve/engine"
)

// metrics holds the server's Prometheus collectors in their own registry.
// The vllm: names match vLLM's so existing dashboards work.
type metrics struct {
	reg        *prometheus.Registry
	ttft       prometheus.Observer
	tpot       prometheus.Observer
	e2e        prometheus.Observer
	promptToks prometheus.Counter
	genToks    prometheus.Counter
	finished   *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	httpReqs   *prometheus.CounterVec
	loaded     prometheus.Gauge
}

// newMetrics registers the collectors; stats is read at scrape time.
func newMetrics(modelName string, stats func() (engine.Stats, bool)) *metrics {
	reg := prometheus.NewRegistry()
	model := prometheus.Labels{"model_name": modelName}
	reg.MustRegister(newEngineCollector(modelName, stats))
	histogram := func(name, help string, buckets []float64) prometheus.Observer {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: model, Buckets: buckets})
		reg.MustRegister(h)
		return h
	}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: model})
		reg.MustRegister(c)
		return c
	}
	m := &metrics{
		reg: reg,
		ttft: histogram("vllm:time_to_first_token_seconds", "Time from request arrival to its first generated token.",
			[]float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640}),
		tpot: histogram("vllm:time_per_output_token_seconds", "Time between generated tokens of a request, per token.",
			[]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10, 20, 40, 80}),
		e2e: histogram("vllm:e2e_request_latency_seconds", "Time from request arrival to its last token.",
			[]float64{0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960}),
		promptToks: counter("vllm:prompt_tokens_total", "Prompt tokens of finished requests."),
		genToks:    counter("vllm:generation_tokens_total", "Generated tokens of finished requests."),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vllm:request_success_total",
			Help: "Finished requests by finish reason.", ConstLabels: model}, []string{"finished_reason"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sieve_requests_rejected_total",
			Help: "Generation requests refused before or at submission, by reason.", ConstLabels: model}, []string{"reason"}),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sieve_http_requests_total",
			Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sieve_model_loaded",
			Help: "1 once the model is loaded and the server is ready.", ConstLabels: model}),
	}
	reg.MustRegister(m.finished, m.rejected, m.httpReqs, m.loaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observeHTTP counts one HTTP response.
func (m *metrics) observeHTTP(route string, status int) {
	m.httpReqs.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// timing follows one request's token timestamps for the latency histograms.
type timing struct {
	m     *metrics
	start time.Time
	last  time.Time // time of the previous tokens; zero before the first
}

// tokens records n tokens arriving now: the first ones give the time to
// first token, later ones the time per output token.
func (t *timing) tokens(n int) {
	if n == 0 {
		return
	}
	now := time.Now()
	if t.last.IsZero() {
		t.m.ttft.Observe(now.Sub(t.start).Seconds())
	} else {
		per := now.Sub(t.last).Seconds() / float64(n)
		for range n {
			t.m.tpot.Observe(per)
		}
	}
	t.last = now
}

// finish records a request's end.
func (t *timing) finish(reason engine.FinishReason, u engine.Usage) {
	t.m.e2e.Observe(time.Since(t.start).Seconds())
	t.m.promptToks.Add(float64(u.PromptTokens))
	t.m.genToks.Add(float64(u.CompletionTokens))
	t.m.finished.WithLabelValues(*finishReason(reason)).Inc()
}
