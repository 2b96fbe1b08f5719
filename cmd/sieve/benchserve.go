package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"

	"sieve/bench/serve"
	"sieve/internal/cli"
	"sieve/sparsity"
)

// benchServe runs 'sieve bench serve': the serving benchmark against any
// OpenAI-compatible endpoint.
func benchServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve bench serve", stderr)
	urls := fs.String("url", "http://127.0.0.1:8000", "base URL of the server; comma-separated URLs are compared")
	labels := fs.String("label", "", "comma-separated names of the series in reports and plots (default: from the URLs and policies)")
	modelName := fs.String("model", "", "model field of the requests (default: the first of GET /v1/models)")
	apiKey := fs.String("api-key", os.Getenv("OPENAI_API_KEY"), "bearer token (default $OPENAI_API_KEY)")
	endpoint := fs.String("endpoint", "completions", "completions (random token-id prompts) or chat (random word prompts)")
	numPrompts := fs.Int("num-prompts", 100, "requests to send")
	inputLen := fs.String("input-len", "128", "prompt tokens (words for chat; with --multi-turn, new words per turn): N, or MIN:MAX drawn uniformly")
	outputLen := fs.String("output-len", "128", "max_tokens of each request (each turn), EOS ignored: N, or MIN:MAX")
	prompts := fs.String("prompts", "", `JSONL file of {"prompt": "...", "output_len": N} lines to send instead of random prompts`)
	vocab := fs.Int("vocab", 512, "random prompt token ids are drawn from [3, vocab)")
	rate := fs.String("request-rate", "inf", "mean requests per second (Poisson arrivals), or inf to send all at once")
	maxConc := fs.Int("max-concurrency", 0, "most requests in flight (0: no bound)")
	stream := fs.Bool("stream", true, "stream responses (needed for TTFT, TPOT and ITL)")
	policies := fs.String("kv-policy", "", "kv_policy request field; comma-separated policies are compared (empty: the server's default)")
	budget := fs.String("kv-budget", "", "kv_budget request field: tokens, or a fraction below 1 (not sent for full)")
	sweep := fs.String("sweep", "", "loads to sweep: concurrency=1,2,4,8 or rate=1,2,4,inf")
	plotPath := fs.String("plot", "", "with --sweep, draw throughput against latency to FILE.svg and FILE.png (FILE being the value without a .svg or .png extension)")
	prefixLen := fs.Int("prefix-len", 0, "a common prefix before every prompt: token ids (completions) or words (chat, as a system message; with --multi-turn, words for both)")
	multiTurn := fs.Bool("multi-turn", false, "run conversations: each turn resends the whole history plus --input-len new words and asks for --output-len tokens")
	conversations := fs.Int("conversations", 4, "with --multi-turn, conversations run at once, one request in flight each")
	turns := fs.Int("turns", 5, "with --multi-turn, turns per conversation")
	seed := fs.Uint64("seed", 1, "seed of the prompts and arrivals")
	asJSON := fs.Bool("json", false, "print JSON: one object, or a list with --sweep or several series")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	usage := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "sieve bench serve: "+format+"\n", a...)
		return errUsage
	}
	in, err := serve.ParseRange(*inputLen)
	if err != nil {
		return usage("--input-len: %v", err)
	}
	out, err := serve.ParseRange(*outputLen)
	if err != nil {
		return usage("--output-len: %v", err)
	}
	if *endpoint != "completions" && *endpoint != "chat" {
		return usage("--endpoint %q: want completions or chat", *endpoint)
	}
	load := serve.Load{MaxConcurrency: *maxConc, Seed: *seed}
	if load.RequestRate, err = strconv.ParseFloat(*rate, 64); err != nil || load.RequestRate <= 0 {
		return usage("--request-rate %q: want a positive number or inf", *rate)
	}
	if *maxConc < 0 {
		return usage("--max-concurrency %d is negative", *maxConc)
	}
	var sw serve.Sweep
	if *sweep != "" {
		if sw, err = serve.ParseSweep(*sweep); err != nil {
			return usage("%v", err)
		}
	} else if *plotPath != "" {
		return usage("--plot needs --sweep")
	}
	targets, err := serveTargets(*urls, *labels, *policies, *budget)
	if err != nil {
		return usage("%v", err)
	}
	if *prefixLen < 0 {
		return usage("--prefix-len %d is negative", *prefixLen)
	}
	if *prefixLen > 0 && *prompts != "" {
		return usage("--prefix-len applies to random prompts, not to --prompts")
	}
	for i := range targets {
		targets[i].Model, targets[i].APIKey, targets[i].Stream, targets[i].Chat = *modelName, *apiKey, *stream, *endpoint == "chat"
	}
	if *multiTurn {
		for _, f := range []string{"num-prompts", "prompts", "request-rate", "max-concurrency", "sweep", "plot", "vocab"} {
			if flagSet(fs, f) {
				return usage("--%s does not apply to --multi-turn", f)
			}
		}
		cfg := serve.ConversationConfig{Conversations: *conversations, Turns: *turns, TurnLen: in, OutputLen: out, PrefixLen: *prefixLen, Seed: *seed}
		return benchConversations(ctx, targets, cfg, *asJSON, stdout, stderr)
	}
	work, err := serve.Workload(serve.WorkloadConfig{NumPrompts: *numPrompts, InputLen: in, OutputLen: out,
		Vocab: *vocab, Words: *endpoint == "chat", PrefixLen: *prefixLen, File: *prompts, Seed: *seed})
	if err != nil {
		return err
	}
	tty := isTerminal(stderr)
	loads := []serve.Load{load}
	if sw.Knob != "" {
		loads = loads[:0]
		for _, v := range sw.Values {
			loads = append(loads, sw.Apply(load, v))
		}
	}
	var results []serve.Result
	for _, l := range loads { // each load runs every target in turn
		for _, t := range targets {
			c := serve.NewClient(t, nil)
			name := t.Label
			if sw.Knob != "" {
				name = fmt.Sprintf("%s %s=%s", t.Label, sw.Knob, sweepValue(sw, l))
			}
			res, err := serve.Run(ctx, c, work, l, serve.NewProgress(stderr, tty, name, len(work)))
			if err != nil {
				return err
			}
			results = append(results, res)
		}
	}
	if err := printServeResults(stdout, results, *asJSON); err != nil || *plotPath == "" {
		return err
	}
	title := fmt.Sprintf("%d requests, %s in, %s out, sweep over %s", *numPrompts, in, out, sw.Knob)
	files, err := serve.PlotSweep(*plotPath, title, results)
	for _, f := range files {
		fmt.Fprintln(stderr, "wrote", f)
	}
	return err
}

// printServeResults prints the results of bench serve: one report, or a
// table of several, or JSON.
func printServeResults(stdout io.Writer, results []serve.Result, asJSON bool) error {
	switch {
	case asJSON && len(results) == 1:
		return json.NewEncoder(stdout).Encode(results[0])
	case asJSON:
		return json.NewEncoder(stdout).Encode(results)
	case len(results) == 1:
		return serve.WriteReport(stdout, results[0])
	}
	return serve.WriteTable(stdout, results)
}

// benchConversations runs the multi-turn benchmark against each target in
// turn and prints a report (one target) or a table, or JSON.
func benchConversations(ctx context.Context, targets []serve.Target, cfg serve.ConversationConfig, asJSON bool, stdout, stderr io.Writer) error {
	tty := isTerminal(stderr)
	var results []serve.ConversationResult
	for _, t := range targets {
		progress := serve.NewProgress(stderr, tty, t.Label, cfg.Conversations*cfg.Turns)
		res, err := serve.RunConversations(ctx, serve.NewClient(t, nil), cfg, progress)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	switch {
	case asJSON && len(results) == 1:
		return json.NewEncoder(stdout).Encode(results[0])
	case asJSON:
		return json.NewEncoder(stdout).Encode(results)
	case len(results) == 1:
		return serve.WriteConversationReport(stdout, results[0])
	}
	return serve.WriteConversationTable(stdout, results)
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// sweepValue prints the swept knob of l.
func sweepValue(sw serve.Sweep, l serve.Load) string {
	if sw.Knob == "concurrency" {
		return strconv.Itoa(l.MaxConcurrency)
	}
	if math.IsInf(l.RequestRate, 1) {
		return "inf"
	}
	return strconv.FormatFloat(l.RequestRate, 'g', -1, 64)
}

// serveTargets crosses the URLs with the KV policies, one target each,
// labelled by labels in order or else by host and policy.
func serveTargets(urls, labels, policies, budget string) ([]serve.Target, error) {
	b, err := sparsity.ParseBudget(budget)
	if err != nil {
		return nil, err
	}
	us := strings.Split(urls, ",")
	ps := strings.Split(policies, ",")
	var targets []serve.Target
	for _, u := range us {
		pu, err := url.Parse(strings.TrimSpace(u))
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Errorf("--url %q: want http://HOST:PORT", u)
		}
		for _, p := range ps {
			t := serve.Target{URL: pu.String(), Label: pu.Host, KVPolicy: strings.TrimSpace(p)}
			if t.KVPolicy != "" {
				if _, err := sparsity.ParsePolicy(t.KVPolicy); err != nil {
					return nil, err
				}
				if t.KVPolicy != string(sparsity.Full) {
					t.KVBudget = b
				}
				if len(us) == 1 {
					t.Label = t.KVPolicy
				} else {
					t.Label += "/" + t.KVPolicy
				}
			}
			targets = append(targets, t)
		}
	}
	if labels != "" {
		ls := strings.Split(labels, ",")
		if len(ls) != len(targets) {
			return nil, fmt.Errorf("--label names %d series, but there are %d (URLs × policies)", len(ls), len(targets))
		}
		for i := range targets {
			targets[i].Label = strings.TrimSpace(ls[i])
		}
	}
	return targets, nil
}

// isTerminal reports whether w is a terminal, where a progress bar can
// redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
