package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"sieve/internal/cli"
)

// healthCmd probes a server's /health and fails unless it answers 200. It
// exists for container health checks in images that have no shell or curl.
func healthCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve health", stderr)
	url := fs.String("url", "http://127.0.0.1:8000/health", "health endpoint to probe")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %v", *timeout)
	}
	status, err := probeHealth(ctx, *url, *timeout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d %s\n", *url, status, http.StatusText(status))
	if status != http.StatusOK {
		return fmt.Errorf("%s answered %d, want 200", *url, status)
	}
	return nil
}

// probeHealth GETs url and returns the status code.
func probeHealth(ctx context.Context, url string, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("health url: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, nil
}
