package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"sieve/bench/soak"
	"sieve/internal/cli"
)

// errSoakFailed marks a soak the server did not hold; the report says why.
var errSoakFailed = errors.New("the server did not hold under the soak")

// benchSoak runs 'sieve bench soak': mixed, partly hostile traffic, then
// a drain check through /metrics. It fails when the server did not hold.
func benchSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := soak.DefaultConfig()
	fs := cli.NewFlagSet("sieve bench soak", stderr)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8000", "base URL of the server")
	fs.StringVar(&cfg.APIKey, "api-key", os.Getenv("OPENAI_API_KEY"), "bearer token (default $OPENAI_API_KEY)")
	fs.StringVar(&cfg.Model, "model", "", "model field of the requests (default: none, the server's own)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to send traffic")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "clients sending requests back to back")
	fs.IntVar(&cfg.ContextLen, "context", 0, "the server's context length, for over-context prompts (default: max_model_len of GET /v1/models)")
	fs.IntVar(&cfg.MaxTokens, "max-tokens", cfg.MaxTokens, "max_tokens is drawn from [1, N]")
	fs.Float64Var(&cfg.MalformedShare, "malformed", cfg.MalformedShare, "share of malformed requests")
	fs.Float64Var(&cfg.OverContextShare, "over-context", cfg.OverContextShare, "share of prompts longer than the context")
	fs.Float64Var(&cfg.DisconnectShare, "disconnect", cfg.DisconnectShare, "share of streams the client hangs up on mid-way")
	policies := fs.String("kv-policy", strings.Join(cfg.Policies, ","), "comma-separated kv_policy values drawn at random (an empty entry sends none; empty sends no KV fields)")
	budgets := fs.String("kv-budget", joinFloats(cfg.Budgets), "comma-separated kv_budget values drawn at random for the sparse policies, in tokens")
	cli.Alias(fs, "kv-policy", "kv-policies")
	cli.Alias(fs, "kv-budget", "kv-budgets")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", cfg.DrainTimeout, "how long the server may take to drain after the traffic")
	fs.IntVar(&cfg.GoroutineSlack, "goroutine-slack", cfg.GoroutineSlack, "goroutines above the baseline still accepted after the drain")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the traffic")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Policies = nil
	if *policies != "" {
		cfg.Policies = strings.Split(*policies, ",")
	}
	cfg.Budgets = nil
	for _, f := range strings.Split(*budgets, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 1 {
			fmt.Fprintf(stderr, "sieve bench soak: --kv-budget: %q is not a budget\n", f)
			return errUsage
		}
		cfg.Budgets = append(cfg.Budgets, v)
	}
	cfg.Progress = stderr
	rep, err := soak.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		err = json.NewEncoder(stdout).Encode(rep)
	} else {
		err = soak.Write(stdout, rep)
	}
	if err != nil {
		return err
	}
	if !rep.Passed() {
		return fmt.Errorf("%w: %s", errSoakFailed, strings.Join(rep.Problems, "; "))
	}
	return nil
}

// joinFloats formats vs as a comma-separated flag value.
func joinFloats(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
