package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"sieve/engine"
)

// generation is one request in flight in the generator.
type generation struct {
	ctx    context.Context
	cancel context.CancelFunc
	events <-chan engine.Event
	timing timing
	log    *slog.Logger
	prompt int          // prompt tokens
	usage  engine.Usage // as of the latest event
	out    *outcome     // the request's record for the access log
	client context.Context
	// probe, set for a stream, writes to the client to find out whether a
	// client that closed its side is still there; an error means it left.
	probe func() error
}

// probeInterval is how often a stream whose client has closed its side
// is probed while no event comes: a client that left is found by the
// second write after it left (the first draws the reset).
const probeInterval = 500 * time.Millisecond

// submit hands req to the generator. Its context ends with the request's
// (when the client is found gone, see requestContext); close must be
// called when done.
func (s *Server) submit(r *http.Request, b *backend, req engine.Request, start time.Time) (*generation, *apiError) {
	log := requestLogger(r.Context(), s.log)
	ctx, cancel := context.WithCancel(r.Context())
	events, err := b.Generator.Submit(ctx, req)
	if err != nil {
		cancel()
		s.metrics.rejected.WithLabelValues(rejectReason(err)).Inc()
		return nil, fromEngine(err)
	}
	attrs := []any{"prompt_tokens", len(req.Prompt), "max_tokens", req.MaxTokens,
		"temperature", req.Params.Temperature, "logprobs", req.Logprobs}
	if req.Constraint != nil {
		attrs = append(attrs, "constrained", true)
	}
	if s.cfg.LogPrompts {
		attrs = append(attrs, "prompt", b.Tokenizer.Decode(req.Prompt))
	}
	log.Info("generation started", attrs...)
	return &generation{ctx: ctx, cancel: cancel, events: events, timing: timing{m: s.metrics, start: start},
		log: log, prompt: len(req.Prompt), usage: engine.Usage{PromptTokens: len(req.Prompt)}, out: requestOutcome(r.Context()), client: r.Context()}, nil
}

// rejectReason labels a submission error for the metrics.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, engine.ErrQueueFull):
		return "queue_full"
	case errors.Is(err, engine.ErrTooLong):
		return "too_long"
	case errors.Is(err, engine.ErrBadRequest):
		return "bad_request"
	case errors.Is(err, engine.ErrClosed):
		return "closed"
	}
	return "error"
}

// errStreamEnded reports a channel closed without a final event.
var errStreamEnded = errors.New("the engine ended the stream without a finish reason")

// next returns the next event. ok is false when the client went away; the
// last event has Finish set. While it waits, a stream whose client has
// closed its side is probed every probeInterval (see requestContext).
func (g *generation) next() (ev engine.Event, ok bool) {
	for {
		ev, ok, idle := g.wait()
		if !idle {
			return ev, ok
		}
		if g.probe() != nil {
			return engine.Event{}, false
		}
	}
}

// wait is next without the probe: idle is true when probeInterval passed
// with no event since a stream's client closed its side.
func (g *generation) wait() (ev engine.Event, ok, idle bool) {
	var halfClosed <-chan struct{}
	if g.probe != nil {
		halfClosed = clientHalfClosed(g.client)
	}
	var tick <-chan time.Time
	for {
		select {
		case <-halfClosed:
			t := time.NewTimer(probeInterval)
			defer t.Stop()
			halfClosed, tick = nil, t.C
			continue
		case <-tick:
			return engine.Event{}, false, true
		case ev, open := <-g.events:
			if !open {
				return engine.Event{Finish: engine.FinishError, Err: errStreamEnded}, true, false
			}
			g.timing.tokens(len(ev.Tokens))
			if ev.Usage.PromptTokens == 0 {
				ev.Usage.PromptTokens = g.prompt
			}
			g.usage = ev.Usage
			return ev, true, false
		case <-g.ctx.Done():
			return engine.Event{}, false, false
		}
	}
}

// collect passes each event to add until the final one, which it returns.
// ok is false when the client went away.
func (g *generation) collect(add func(engine.Event)) (final engine.Event, ok bool) {
	for {
		ev, more := g.next()
		if !more {
			return engine.Event{}, false
		}
		add(ev)
		if ev.Finish != "" {
			return ev, true
		}
	}
}

// close ends the generation: it records the finish, cancels the engine request if
// it is still going, and drains its events.
func (g *generation) close(final engine.Event) {
	g.cancel()
	if final.Finish == "" {
		// A write to the client failed or it left before the end.
		final.Finish, final.Usage = engine.FinishCancelled, g.usage
		g.out.clientClosed = true
	}
	if final.Finish == engine.FinishCancelled && g.client.Err() != nil {
		g.out.clientClosed = true // the access log counts it as 499, with the tokens it got
	}
	g.out.generated, g.out.finish, g.out.usage = true, final.Finish, final.Usage
	g.timing.finish(final.Finish, final.Usage)
	attrs := []any{"finish", final.Finish, "prompt_tokens", final.Usage.PromptTokens,
		"completion_tokens", final.Usage.CompletionTokens, "duration", time.Since(g.timing.start).Round(time.Millisecond)}
	if final.Err != nil {
		g.log.Error("generation failed", append(attrs, "err", final.Err)...)
	} else {
		g.log.Info("generation finished", attrs...)
	}
	go func() {
		for range g.events {
		}
	}()
}

// usageOf converts the engine's usage.
func usageOf(u engine.Usage) *usage {
	return &usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		TotalTokens: u.PromptTokens + u.CompletionTokens, KVTokensKept: u.KVTokensKept, KVTokensEvicted: u.KVTokensEvicted,
		PromptTokensDetails: promptTokensDetails{CachedTokens: u.CachedTokens}}
}

// finishReason converts a finish for the response; cancelled and error
// do not appear in OpenAI's vocabulary.
func finishReason(f engine.FinishReason) *string {
	s := string(f)
	if f == engine.FinishCancelled {
		s = "abort"
	}
	return &s
}

// generationError is the error sent for a generation that failed.
func generationError(ev engine.Event) *apiError {
	err := ev.Err
	if err == nil {
		err = fmt.Errorf("generation ended with %q", ev.Finish)
	}
	return &apiError{status: http.StatusInternalServerError, kind: typeServer, message: "generation failed: " + err.Error()}
}
