package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"sieve/model/demo"
	"sieve/server"
)

func serveCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	opts, err := server.ParseArgs(args, stderr)
	if errors.Is(err, server.ErrUsage) {
		return errUsage
	}
	if err != nil {
		return err
	}
	if opts.Model, err = resolveModel(ctx, opts.Model, opts.Tokenizer, stderr); err != nil {
		return err
	}
	if opts.ServedModelName == "" {
		opts.ServedModelName = server.DefaultModelName(opts.Model)
		if opts.Model == demoModel {
			opts.ServedModelName = demo.Name
		}
	}
	return server.Run(ctx, opts, loadModel, slog.New(slog.NewTextHandler(stderr, nil)))
}
