package main

import (
	"context"
	"errors"
	"io"

	"sieve/model/load"
	"sieve/server"
)

func serveCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	err := server.Main(ctx, args, stderr, load.Open)
	if errors.Is(err, server.ErrUsage) {
		return errUsage
	}
	return err
}
