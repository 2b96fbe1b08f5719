package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sieve/internal/testmodels"
	"sieve/model/load"
	"sieve/server"
	"sieve/sparsity"
)

// calibrated writes a profile for stories260K at a uniform 16 tokens.
func calibrated(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profile.json")
	code, out, errOut := sieve("calibrate", "-m", testmodels.Path(t, "stories260K.bin"), "-z", testmodels.Path(t, "tok512.bin"),
		"--text", "../../eval/testdata/stories.txt", "--max-tokens", "128", "--sequences", "2", "--threads", "2",
		"--kv-budget", "16", "-o", path)
	if code != 0 || !strings.Contains(out, "retained") {
		t.Fatalf("calibrate: exit %d, output %q, stderr %q", code, out, errOut)
	}
	p, err := sparsity.LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, lb := range p.Layers {
		total += lb.Budget()
	}
	if len(p.Layers) != 5 || total != 5*16 || p.Model != "stories260K" {
		t.Fatalf("profile %+v: want 5 layers summing to 80 tokens", p)
	}
	return path
}

func TestCalibratedProfileRuns(t *testing.T) {
	profile := calibrated(t)
	t.Run("bench throughput", func(t *testing.T) { benchWithProfile(t, profile) })
	t.Run("serve", func(t *testing.T) { serveWithProfile(t, profile) })
}

// benchWithProfile runs bench throughput under layered with the profile.
func benchWithProfile(t *testing.T, profile string) {
	code, out, errOut := sieve("bench", "throughput", "-m", testmodels.Path(t, "stories260K.gguf"), "--num-prompts", "2",
		"--input-len", "12", "--output-len", "60", "--threads", "2", "--kv-cache-size", "1", "--max-batch-tokens", "64",
		"--kv-policy", "layered", "--profile", profile, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Results []struct {
			Policy     string  `json:"policy"`
			OutputTokS float64 `json:"output_tok_s"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if len(rep.Results) != 1 || rep.Results[0].Policy != "layered" || rep.Results[0].OutputTokS <= 0 {
		t.Fatalf("results %+v", rep.Results)
	}
}

// serveWithProfile serves stories260K under layered with the profile and
// checks that a long completion evicts.
func serveWithProfile(t *testing.T, profile string) {
	opts, err := server.ParseArgs([]string{"-m", testmodels.Path(t, "stories260K.gguf"), "--threads", "2",
		"--kv-policy", "layered", "--profile", profile}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, opts, load.Open, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i == 200 {
			t.Fatal("the server never became healthy")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Post(base+"/v1/completions", "application/json",
		strings.NewReader(`{"prompt": "Once upon a time", "max_tokens": 100, "temperature": 0, "ignore_eos": true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
			KVTokensEvicted  int `json:"kv_tokens_evicted"`
		} `json:"usage"`
	}
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, data)
	}
	if body.Usage.CompletionTokens < 50 || body.Usage.KVTokensEvicted == 0 {
		t.Fatalf("usage %+v: want a long completion under eviction", body.Usage)
	}
}

func TestEvalRejectsBadSinkTokens(t *testing.T) {
	code, _, errOut := sieve("eval", "divergence", "-m", "unused.gguf", "--text", "unused.txt", "--kv-sink-tokens", "1,x")
	if code != 1 || !strings.Contains(errOut, `sink token "x"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
