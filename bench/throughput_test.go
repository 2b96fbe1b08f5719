package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/model/llama2c"
	"sieve/sparsity"
)

func TestThroughputComparesPolicies(t *testing.T) {
	m, err := llama2c.Load(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var specs []sparsity.Spec
	for _, p := range []string{"full", "h2o", "window"} {
		b := 24.0
		if p == "full" {
			b = 0
		}
		s, err := sparsity.ParseSpec(p, b, "")
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, s)
	}
	cfg := ThroughputConfig{Requests: 6, InputLen: 20, OutputLen: 30, Repeats: 2, Seed: 3,
		Engine: engine.Config{Threads: 2, KVCacheMiB: 1, BlockSize: 8, MaxBatchTokens: 64, MaxSeqs: 8, PrefillChunk: 16}}
	rep, err := Throughput(context.Background(), m, cfg, specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("%d results", len(rep.Results))
	}
	for _, r := range rep.Results {
		if len(r.Runs) != 2 || r.OutputTokS <= 0 || r.TotalTokS <= r.OutputTokS || r.TTFTP50S <= 0 || r.TTFTP99S < r.TTFTP50S ||
			r.MeanBatch < 1 || r.MeanBatch > 8 || r.PeakKVBlocks <= 0 {
			t.Errorf("%s: implausible result %+v", r.Policy, r)
		}
		if (r.EvictedTokens > 0) != (r.Policy != "full") {
			t.Errorf("%s: %d tokens evicted", r.Policy, r.EvictedTokens)
		}
	}
	// The sparse policies keep at most budget + block + chunk slots per layer.
	if full, h2o := rep.Results[0].PeakKVBlocks, rep.Results[1].PeakKVBlocks; h2o >= full {
		t.Errorf("peak blocks: h2o %d, full %d", h2o, full)
	}
	var out bytes.Buffer
	if err := WriteThroughputTable(&out, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[2], "full ") || !strings.Contains(lines[2], "1.00x") || !strings.HasPrefix(lines[3], "h2o ") {
		t.Errorf("table:\n%s", out.String())
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"policy", "budget", "output_tok_s", "total_tok_s", "ttft_p50_s", "ttft_p99_s", "mean_batch", "peak_kv_blocks", "preemptions", "recomputed_tokens", "runs"} {
		if _, ok := back.Results[1][k]; !ok {
			t.Errorf("JSON result lacks %q: %s", k, js)
		}
	}
}

func TestThroughputRejectsBadConfigs(t *testing.T) {
	m, err := llama2c.Load(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	full := sparsity.DefaultSpec()
	ok := ThroughputConfig{Requests: 1, InputLen: 4, OutputLen: 4, Repeats: 1, Engine: engine.Config{Threads: 1}}
	tests := []struct {
		name  string
		cfg   ThroughputConfig
		specs []sparsity.Spec
	}{
		{"no requests", ThroughputConfig{InputLen: 4, OutputLen: 4, Repeats: 1}, []sparsity.Spec{full}},
		{"no policy", ok, nil},
		{"past the context", ThroughputConfig{Requests: 1, InputLen: 500, OutputLen: 100, Repeats: 1}, []sparsity.Spec{full}},
	}
	for _, tt := range tests {
		if _, err := Throughput(context.Background(), m, tt.cfg, tt.specs, nil); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
