package main

import (
	"encoding/json"
	"strings"
	"testing"

	"sieve/internal/testmodels"
)

func TestBenchThroughput(t *testing.T) {
	gguf := testmodels.Path(t, "stories260K.gguf")
	common := []string{"bench", "throughput", "-m", gguf, "--num-prompts", "3", "--input-len", "12", "--output-len", "20",
		"--threads", "2", "--kv-cache-size", "1", "--max-batch-tokens", "64", "--max-seqs", "4"}
	code, out, errOut := sieve(append(common, "--compare", "full,h2o", "--kv-budget", "16", "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Results []struct {
			Policy     string  `json:"policy"`
			Budget     float64 `json:"budget"`
			OutputTokS float64 `json:"output_tok_s"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if len(rep.Results) != 2 || rep.Results[0].Policy != "full" || rep.Results[1].Policy != "h2o" || rep.Results[1].Budget != 16 || rep.Results[1].OutputTokS <= 0 {
		t.Fatalf("results %+v", rep.Results)
	}
	code, out, errOut = sieve(append(common, "--kv-policy", "window", "--kv-budget", "0.5")...)
	if code != 0 || !strings.Contains(out, "window") || !strings.Contains(out, "1.00x") {
		t.Fatalf("exit %d, output %q, stderr %q", code, out, errOut)
	}
	for _, bad := range [][]string{{"--kv-policy", "lru"}, {"--kv-policy", "h2o"}, {"--compare", "full,h2o", "--kv-budget", "x"}} {
		if code, _, errOut := sieve(append(common, bad...)...); code == 0 || !strings.Contains(errOut, "sparsity") {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
}
