package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	"sieve/engine"
	"sieve/eval"
	"sieve/internal/cli"
	"sieve/sparsity"
)

// evalKVFlags are the KV policy flags of the eval commands: the engine's
// names (--kv-policy, --kv-budget, --kv-sink-tokens, --profile) in their
// sweep form, comma-separated lists.
type evalKVFlags struct {
	policies, budgets, profile, sinkTokens *string
	sink, window                           *int
	dtypes                                 engine.KVFlags // DType, KeyDType and ValueDType only
}

// addEvalKVFlags defines the KV policy flags on fs, with the given default
// budgets and what a fractional budget is a fraction of.
func addEvalKVFlags(fs *flag.FlagSet, budgets, fractionOf string) *evalKVFlags {
	f := &evalKVFlags{
		policies:   fs.String("kv-policy", "full,window,h2o,snapkv,pyramid,layered", "comma-separated policies to sweep"),
		budgets:    fs.String("kv-budget", budgets, "comma-separated budgets to sweep: a fraction (0, 1) of "+fractionOf+", or tokens per layer"),
		profile:    fs.String("profile", "", "layered budget profile (JSON)"),
		sinkTokens: fs.String("kv-sink-tokens", "", "comma-separated token ids kept like sinks wherever they sit, under every policy (content-aware sinks)"),
		sink:       fs.Int("sink", sparsity.DefaultSink, "protected first tokens"),
		window:     fs.Int("window", 0, "protected recent window of the scored policies (0: policy default)"),
	}
	cli.Alias(fs, "kv-policy", "kv-policies", "policies")
	cli.Alias(fs, "kv-budget", "kv-budgets", "budgets")
	cli.Alias(fs, "kv-sink-tokens", "sink-tokens")
	f.dtypes.AddDTypes(fs) // the engine's flags; an eval's default storage is f32
	return f
}

// kvTypes returns the KV cache storage the flags give (f32 by default).
func (f *evalKVFlags) kvTypes() eval.KVTypes {
	t := eval.KVTypes{Key: f.dtypes.DType, Value: f.dtypes.DType}
	if f.dtypes.KeyDType != "" {
		t.Key = f.dtypes.KeyDType
	}
	if f.dtypes.ValueDType != "" {
		t.Value = f.dtypes.ValueDType
	}
	return t
}

// addRefKVFlag defines --ref-kv-dtype, the KV storage of the reference
// runs of a divergence.
func addRefKVFlag(fs *flag.FlagSet) *string {
	return fs.String("ref-kv-dtype", "", "KV cache storage type of the reference (full) runs: "+engine.KVDTypeNames()+" (default: that of the scored runs)")
}

// refKVTypes returns the reference storage named by --ref-kv-dtype.
func refKVTypes(name string) eval.KVTypes { return eval.KVTypes{Key: name, Value: name} }

// parse returns the policies, the budgets and the engine's default spec
// (the profile, sink tokens, sink and window) the flags give.
func (f *evalKVFlags) parse() ([]string, []float64, sparsity.Spec, error) {
	var policies []string
	for p := range strings.SplitSeq(*f.policies, ",") {
		policies = append(policies, strings.TrimSpace(p))
	}
	var budgets []float64
	for s := range strings.SplitSeq(*f.budgets, ",") {
		b, err := sparsity.ParseBudget(s)
		if err != nil {
			return nil, nil, sparsity.Spec{}, err
		}
		budgets = append(budgets, b)
	}
	spec, err := sparsity.ParseSpec("", 0, *f.profile)
	if err != nil {
		return nil, nil, sparsity.Spec{}, err
	}
	spec.Sink, spec.Window = *f.sink, *f.window
	if spec.SinkTokens, err = sparsity.ParseSinkTokens(*f.sinkTokens); err != nil {
		return nil, nil, sparsity.Spec{}, err
	}
	return policies, budgets, spec, nil
}

// evalOutFlags are the output flags of the eval commands.
type evalOutFlags struct {
	json *bool
	out  *string
}

// addEvalOutFlags defines --json and --out on fs.
func addEvalOutFlags(fs *flag.FlagSet) *evalOutFlags {
	return &evalOutFlags{
		json: fs.Bool("json", false, "print one JSON object"),
		out:  fs.String("out", "", "directory (created when missing) to write the plot EVAL.svg and EVAL.png to (empty: none)"),
	}
}

// makeOutDir creates the --out directory, if one is set, so that a path
// that cannot be written fails before the run rather than after it.
func (f *evalOutFlags) makeOutDir() error {
	return makeOutDir(*f.out)
}

// makeOutDir creates dir (none when empty) with its parents.
func makeOutDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// write prints either the JSON object {header..., "sweep": s, extra...}
// or the heading line and the table, and then, with --out, draws the
// sweep's plot: a picture that cannot be written loses no results.
func (f *evalOutFlags) write(stdout io.Writer, heading string, s eval.Sweep, fields map[string]any) error {
	if name, ok := fields["model"].(string); ok {
		s.Title = name
	}
	var err error
	if *f.json {
		obj := map[string]any{"sweep": s}
		maps.Copy(obj, fields)
		err = json.NewEncoder(stdout).Encode(obj)
	} else {
		fmt.Fprintln(stdout, heading)
		err = s.WriteTable(stdout)
	}
	if err != nil || *f.out == "" {
		return err
	}
	return s.WritePlot(*f.out)
}

// defaultEvalBudgets are the budgets every eval command runs by default.
const defaultEvalBudgets = "0.125,0.25,0.5"
