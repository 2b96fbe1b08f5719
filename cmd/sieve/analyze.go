package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sieve/analysis"
	"sieve/eval"
	"sieve/internal/cli"
	"sieve/model"
)

// analyzeCommands are the subcommands of 'sieve analyze'.
func analyzeCommands() []command {
	return []command{
		{name: "activations", summary: "massive activations: where, how large, on which tokens", run: analyzeWith("activations")},
		{name: "attention", summary: "attention sinks, entropy and what each policy would keep", run: analyzeWith("attention")},
	}
}

// analyzeWith returns 'sieve analyze WHAT'.
func analyzeWith(what string) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return analyzeCmd(ctx, what, args, stdout, stderr)
	}
}

func analyzeCmd(ctx context.Context, what string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve analyze "+what, stderr)
	in := addAnalysisFlags(fs)
	out := fs.String("out", "", "directory for "+what+".json and the pictures (SVG and PNG); none when empty")
	asJSON := fs.Bool("json", false, "print the JSON report instead of the tables")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := makeOutDir(*out); err != nil {
		return err
	}
	res, err := in.run(ctx, analysis.Options{Attention: what == "attention"}, stderr)
	if err != nil {
		return err
	}
	switch {
	case *asJSON:
		err = writeReport(stdout, what, res)
	case what == "attention":
		err = analysis.WriteAttention(stdout, res)
	default:
		err = analysis.WriteActivations(stdout, res)
	}
	if err != nil || *out == "" {
		return err
	}
	return writeAnalysis(*out, what, res, stderr)
}

// analysisFlags are the input flags shared by 'sieve analyze' and
// 'sieve calibrate'.
type analysisFlags struct {
	model           *modelFlags
	text            *string
	maxTokens, seqs *int
	top, threads    *int
	ratio           *float64
	sampleSeed      *uint64
	samples         *int
}

// addAnalysisFlags registers the shared input flags on fs.
func addAnalysisFlags(fs *flag.FlagSet) analysisFlags {
	return analysisFlags{
		model:      addModelFlags(fs, ""),
		text:       fs.String("text", "", "text to run: documents separated by blank lines, cut into sequences of --max-tokens"),
		maxTokens:  fs.Int("max-tokens", 0, "tokens per sequence (0: the model's context length)"),
		seqs:       fs.Int("sequences", 0, "analyse at most this many sequences of the text (0: all)"),
		top:        fs.Int("top", analysis.DefaultTopK, "largest values reported"),
		ratio:      fs.Float64("ratio", analysis.DefaultRatio, "massive activation: |h| at least this many times the layer's median |h|"),
		threads:    addThreadsFlag(fs),
		sampleSeed: fs.Uint64("sample-seed", 0, "instead of --text, run the model's own temperature-1 samples drawn with this seed (0: off)"),
		samples:    fs.Int("samples", 1, "number of context-length samples with --sample-seed"),
	}
}

// run loads the model and the text and analyses them with opts, the
// flags' settings filled in.
func (f analysisFlags) run(ctx context.Context, opts analysis.Options, stderr io.Writer) (*analysis.Result, error) {
	if f.model.path == "" || (*f.text == "") == (*f.sampleSeed == 0) {
		fmt.Fprintln(stderr, "-m MODEL and exactly one of --text FILE and --sample-seed N are required")
		return nil, errUsage
	}
	if *f.maxTokens < 0 || *f.seqs < 0 {
		return nil, fmt.Errorf("--max-tokens and --sequences must be at least 0")
	}
	m, err := f.model.open(ctx, stderr)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	seqs, err := f.sequences(ctx, m)
	if err != nil {
		return nil, err
	}
	bar := newProgress(stderr, "analysing")
	opts.TopK, opts.Ratio, opts.Threads, opts.Progress = *f.top, *f.ratio, *f.threads, bar.update
	return analysis.Run(ctx, m, seqs, opts)
}

// sequences tokenizes the text into the sequences to analyse, or samples
// them from the model.
func (f analysisFlags) sequences(ctx context.Context, m *model.Model) ([][]int32, error) {
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("model %s has no tokenizer (pass -z)", m.Name)
	}
	if *f.sampleSeed != 0 {
		seqs, err := eval.Sample(ctx, m, eval.SampleConfig{Count: *f.samples, Seed: *f.sampleSeed, Threads: *f.threads})
		if err != nil {
			return nil, err
		}
		for i, s := range seqs {
			if *f.maxTokens > 0 && len(s) > *f.maxTokens {
				seqs[i] = s[:*f.maxTokens]
			}
		}
		return seqs, nil
	}
	text, err := os.ReadFile(*f.text)
	if err != nil {
		return nil, err
	}
	n := m.Config.ContextLen
	if *f.maxTokens > 0 {
		n = min(n, *f.maxTokens)
	}
	seqs, err := eval.Windows(m.Tokenizer, string(text), n, n)
	if err != nil {
		return nil, err
	}
	if *f.seqs > 0 && len(seqs) > *f.seqs {
		seqs = seqs[:*f.seqs]
	}
	return seqs, nil
}

// writeAnalysis writes DIR/WHAT.json and the pictures.
func writeAnalysis(dir, what string, res *analysis.Result, stderr io.Writer) error {
	f, err := os.Create(filepath.Join(dir, what+".json"))
	if err != nil {
		return err
	}
	if err := writeReport(f, what, res); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	var files []string
	if what == "attention" {
		files, err = analysis.PlotAttention(dir, res)
	} else {
		files, err = analysis.PlotActivations(dir, res)
	}
	for _, name := range files {
		fmt.Fprintln(stderr, "wrote", name)
	}
	return err
}

// writeReport writes the JSON report of one analysis.
func writeReport(w io.Writer, what string, res *analysis.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if what == "activations" {
		r := *res
		r.Attention = nil
		return enc.Encode(r)
	}
	return enc.Encode(res)
}
