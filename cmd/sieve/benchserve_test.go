package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestServeTargets(t *testing.T) {
	ts, err := serveTargets("http://a:1,http://b:2", "", "full,h2o", "0.25")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		url, label, policy string
		budget             float64
	}{{"http://a:1", "a:1/full", "full", 0}, {"http://a:1", "a:1/h2o", "h2o", 0.25}, {"http://b:2", "b:2/full", "full", 0}, {"http://b:2", "b:2/h2o", "h2o", 0.25}}
	if len(ts) != len(want) {
		t.Fatalf("%d targets, want %d", len(ts), len(want))
	}
	for i, w := range want {
		if g := ts[i]; g.URL != w.url || g.Label != w.label || g.KVPolicy != w.policy || g.KVBudget != w.budget {
			t.Errorf("target %d = %+v, want %+v", i, g, w)
		}
	}
	ts, err = serveTargets("http://a:1", "dense,sparse", "full,layered", "")
	if err != nil || ts[0].Label != "dense" || ts[1].Label != "sparse" {
		t.Errorf("labels: %+v, %v", ts, err)
	}
	for _, bad := range [][4]string{{"a:1", "", "", ""}, {"http://a:1", "x,y", "", ""}, {"http://a:1", "", "lru", ""}, {"http://a:1", "", "h2o", "-1"}} {
		if _, err := serveTargets(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("serveTargets%q accepted", bad)
		}
	}
}

func TestBenchServeMultiTurn(t *testing.T) {
	var mu sync.Mutex
	var prompts []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		var body struct {
			Model  string `json:"model"`
			Prompt string `json:"prompt"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Model != "m" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		prompts = append(prompts, body.Prompt)
		mu.Unlock()
		n := len(strings.Fields(body.Prompt))
		fmt.Fprintf(w, `{"choices":[{"text":" ok"}],"usage":{"prompt_tokens":%d,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":%d}}}`, n, n/2)
	}))
	defer ts.Close()
	args := []string{"bench", "serve", "--url", ts.URL, "--model", "m", "--stream=false", "--multi-turn", "--conversations", "2", "--turns", "3",
		"--input-len", "5", "--output-len", "1", "--prefix-len", "4"}
	code, out, errOut := sieve(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Completed int `json:"completed"`
		PerTurn   []struct {
			Turn        int     `json:"turn"`
			PromptToken float64 `json:"mean_prompt_tokens"`
		} `json:"per_turn"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// Turn t: the 4 prefix words, t turns of 5 words, t-1 answers of one.
	if res.Completed != 6 || len(res.PerTurn) != 3 || res.PerTurn[2].Turn != 3 || res.PerTurn[2].PromptToken != 4+15+2 {
		t.Fatalf("result %+v", res)
	}
	if len(prompts) != 6 {
		t.Fatalf("%d prompts sent", len(prompts))
	}
	code, out, _ = sieve(args...)
	if code != 0 || !strings.Contains(out, "Multi-turn Benchmark Result") || !strings.Contains(out, "TTFT p50 (s)") {
		t.Fatalf("exit %d, report %q", code, out)
	}
	if code, _, _ := sieve(append(args, "--request-rate", "2")...); code == 0 {
		t.Error("--request-rate with --multi-turn accepted")
	}
}
