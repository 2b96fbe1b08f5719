package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"sieve/analysis"
	"sieve/internal/cli"
	"sieve/sparsity"
)

// calibrateCmd runs 'sieve calibrate': a layered profile from the model's
// attention statistics at the total KV of a uniform budget.
func calibrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve calibrate", stderr)
	in := addAnalysisFlags(fs)
	budget := fs.String("kv-budget", "", "the uniform budget to match: a fraction (0, 1) of the request length or tokens per layer (required)")
	outPath := fs.String("o", "", "write the profile (JSON) here (required)")
	context := fs.Int("context", 0, "request length the profile is made for (0: the analysed sequence length)")
	sink := fs.Int("sink", sparsity.DefaultSink, "protected first tokens per layer")
	floor := fs.Float64("floor", analysis.DefaultFloor, "smallest share of the uniform budget a layer gets")
	sinkShare := fs.Float64("sink-share", analysis.DefaultSinkShare, "a token id becomes a content-aware sink when this share of its occurrences carry massive activations (above 1: none)")
	cli.Alias(fs, "kv-budget", "budget")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *budget == "" || *outPath == "" {
		fmt.Fprintln(stderr, "sieve calibrate: --kv-budget R and -o FILE are required")
		return errUsage
	}
	b, err := strconv.ParseFloat(*budget, 64)
	if err != nil {
		return fmt.Errorf("--kv-budget %q is not a number", *budget)
	}
	if *sink < 0 {
		return fmt.Errorf("--sink must be at least 0")
	}
	replaySink := *sink
	if replaySink == 0 {
		replaySink = -1 // Options: none
	}
	res, err := in.run(ctx, analysis.Options{Attention: true, Sink: replaySink}, stderr)
	if err != nil {
		return err
	}
	cal, err := analysis.Calibrate(res, analysis.CalibrateOptions{Budget: b, Context: *context, Sink: *sink, Floor: *floor, SinkShare: *sinkShare})
	if err != nil {
		return err
	}
	f, err := os.Create(*outPath)
	if err != nil {
		return err
	}
	if err := analysis.WriteProfile(f, cal.Profile); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := analysis.WriteCalibration(stdout, res, cal); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s\n", *outPath)
	return err
}
