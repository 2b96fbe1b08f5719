package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"sieve/engine"
	"sieve/model"
)

// defaultShutdownTimeout bounds the drain when Options leave it zero.
const defaultShutdownTimeout = 30 * time.Second

// LoadFunc opens a model, with its tokenizer set; tokenizerPath, when not
// empty, names a tokenizer file that overrides the model's.
type LoadFunc func(modelPath, tokenizerPath string) (*model.Model, error)

// Run listens at opts' address and serves until ctx ends: it listens at
// once (answering 503 until ready), loads the model with load, starts the
// engine, and serves; then it stops accepting, lets running requests
// finish (up to opts.ShutdownTimeout) and closes the engine.
func Run(ctx context.Context, opts Options, load LoadFunc, log *slog.Logger) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return Serve(ctx, ln, opts, load, log)
}

// Serve serves on ln until ctx ends, loading the model meanwhile; see Run.
// It closes ln.
func Serve(ctx context.Context, ln net.Listener, opts Options, load LoadFunc, log *slog.Logger) error {
	srv := New(Config{ModelName: opts.ServedModelName, APIKey: opts.APIKey, ChatTemplate: opts.ChatTemplate,
		ReadTimeout: opts.HTTP.ReadTimeout, WriteTimeout: opts.HTTP.WriteTimeout,
		ParseSpecialInContent: opts.ParseSpecialInContent, LogPrompts: opts.LogPrompts, CORS: opts.CORS, ToolCallParser: opts.ToolCallParser}, log)
	hs, conns := newHTTPServer(srv, opts.HTTP, log)
	ln = conns.listen(ln)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "model_name", opts.ServedModelName, "auth", opts.APIKey != "")

	eng, m, err := start(ctx, opts, load, log)
	if err != nil {
		hs.Close()
		return err
	}
	defer m.Close()
	if err := srv.SetBackend(Backend{Generator: eng, Tokenizer: m.Tokenizer, ContextLen: m.Config.ContextLen, ChatTemplate: m.ChatTemplate}); err != nil {
		hs.Close()
		eng.Close(context.Background())
		return err
	}
	log.Info("ready", "model_name", opts.ServedModelName, "context", m.Config.ContextLen)

	select {
	case <-ctx.Done():
		log.Info("shutting down: draining running requests", "timeout", opts.ShutdownTimeout)
	case err := <-serveErr:
		eng.Close(context.Background())
		return fmt.Errorf("serve: %w", err)
	}
	timeout := opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = defaultShutdownTimeout
	}
	return shutdown(srv, hs, eng, timeout, log)
}

// start loads the model, logging progress while it loads, and starts the
// engine on it.
func start(ctx context.Context, opts Options, load LoadFunc, log *slog.Logger) (*engine.Engine, *model.Model, error) {
	if load == nil {
		return nil, nil, errors.New("serve: no model loader")
	}
	begin := time.Now()
	log.Info("loading model", "path", opts.Model, "tokenizer", opts.Tokenizer)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				log.Info("still loading model", "elapsed", time.Since(begin).Round(time.Second))
			}
		}
	}()
	m, err := load(opts.Model, opts.Tokenizer)
	close(done)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", opts.Model, err)
	}
	c := m.Config
	log.Info("model loaded", "name", m.Name, "format", m.Format, "layers", c.Layers, "dim", c.Dim,
		"vocab", c.VocabSize, "context", c.ContextLen, "elapsed", time.Since(begin).Round(time.Millisecond))
	if m.Tokenizer == nil {
		m.Close()
		return nil, nil, fmt.Errorf("load %s: the model has no tokenizer; pass one with -z", opts.Model)
	}
	if err := ctx.Err(); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("serve: stopped while loading: %w", err)
	}
	if err := lowerContext(m, opts.MaxModelLen); err != nil {
		m.Close()
		return nil, nil, err
	}
	eng, err := engine.New(m, m.Tokenizer, opts.Engine, log)
	if errors.Is(err, engine.ErrKVTooLarge) {
		err = fmt.Errorf("%w; lower --kv-cache-size", err)
	}
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("start engine: %w", err)
	}
	if err := fitContext(m, eng, opts, log); err != nil {
		eng.Close(context.Background())
		m.Close()
		return nil, nil, err
	}
	return eng, m, nil
}

// engineCloser is the part of the engine that shutdown needs.
type engineCloser interface {
	// Close stops the engine; once ctx ends it cancels what still runs,
	// ending each request with finish "abort".
	Close(ctx context.Context) error
}

// abortGrace bounds how long shutdown waits, once the engine has
// cancelled the requests left at the deadline, for their handlers to send
// what ends them (finish_reason "abort", the usage and [DONE] of a
// stream) before the connections are closed.
const abortGrace = 2 * time.Second

// shutdown refuses new requests (503, /health included) and waits up to
// timeout for running ones, then stops the HTTP server and closes the
// engine. Requests still running at the deadline are cancelled by the
// engine and end as the server's cancellation, finish_reason "abort":
// their handlers get up to abortGrace to send that before the HTTP server
// closes the connections.
func shutdown(srv *Server, hs *http.Server, eng engineCloser, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	drained := srv.Drain(ctx)
	if drained == nil {
		drained = hs.Shutdown(ctx)
	}
	if drained != nil {
		log.Warn("requests still running after the shutdown timeout; cancelling them", "err", drained)
	}
	closeCtx, cancelClose := context.WithTimeout(context.Background(), time.Second)
	defer cancelClose()
	if drained != nil {
		cancelClose() // cancel the rest at once
	}
	engErr := eng.Close(closeCtx)
	if drained != nil {
		grace, stop := context.WithTimeout(context.Background(), abortGrace)
		defer stop()
		if err := srv.Drain(grace); err == nil {
			hs.Shutdown(grace)
		}
		hs.Close()
		return nil
	}
	if engErr != nil {
		return fmt.Errorf("close engine: %w", engErr)
	}
	log.Info("shut down cleanly")
	return nil
}
