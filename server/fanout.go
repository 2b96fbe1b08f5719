package server

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"sieve/engine"
)

// maxChoices bounds the choices of one request: n times its prompts.
const maxChoices = 128

// errAbandon stops a fanout's run: the stream has been ended.
var errAbandon = errors.New("stream abandoned")

// fanout runs the engine requests of one HTTP request with several choices
// (n > 1, or several prompts) and merges their events.
//
// Siblings share their prompt through the engine's prefix cache: the first
// choice of each prompt (its leader) is submitted at once, the prompt's
// other choices once the leader's first event has arrived. By then the
// leader's prompt is prefilled and its full blocks are in the cache, so
// the siblings attach them and prefill only the prompt's last partial
// block, and the prompt is computed once.
type fanout struct {
	s      *Server
	r      *http.Request
	b      *backend
	start  time.Time
	reqs   []engine.Request // by choice index
	lead   []int            // per choice: its prompt's leader
	gens   []*generation    // by choice index; nil until submitted
	finals []engine.Event   // by choice index, once finished
	events chan choiceEvent
	quit   chan struct{}
	wg     sync.WaitGroup
	// probe, set for a stream, writes to the client to find out whether a
	// client that has closed its side is still there (see generation).
	probe func() error
}

// choiceEvent is one event of choice index; ok is false when the client
// went away.
type choiceEvent struct {
	index int
	ev    engine.Event
	ok    bool
}

// choiceCount checks n (nil: 1) against the prompts of a request.
func choiceCount(n *int, prompts int) (int, *apiError) {
	k := 1
	if n != nil {
		k = *n
	}
	switch {
	case k < 1 || k > maxChoices:
		return 0, badRequest("n", "n must be between 1 and %d, got %d", maxChoices, k)
	case k > maxChoices/max(prompts, 1):
		return 0, badRequest("n", "at most %d choices per request are supported, got n=%d for %d prompts", maxChoices, k, prompts)
	}
	return k, nil
}

// newFanout prepares n choices for each request in prompts: choice
// p*n+j is choice j of prompt p (OpenAI's order), sampled with the
// prompt's seed plus j so that the choices differ.
func (s *Server) newFanout(r *http.Request, b *backend, start time.Time, prompts []engine.Request, n int) *fanout {
	f := &fanout{s: s, r: r, b: b, start: start, events: make(chan choiceEvent), quit: make(chan struct{})}
	for p, req := range prompts {
		for j := range n {
			c := req
			c.ID = fmt.Sprintf("%s-%d", req.ID, p*n+j)
			c.Params.Seed += uint64(j)
			f.reqs = append(f.reqs, c)
			f.lead = append(f.lead, p*n)
		}
	}
	f.gens = make([]*generation, len(f.reqs))
	f.finals = make([]engine.Event, len(f.reqs))
	return f
}

// submit starts choice i and relays its events.
func (f *fanout) submit(i int) *apiError {
	g, ae := f.s.submit(f.r, f.b, f.reqs[i], f.start)
	if ae != nil {
		return ae
	}
	f.gens[i] = g
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			ev, ok := g.next()
			select {
			case f.events <- choiceEvent{index: i, ev: ev, ok: ok}:
			case <-f.quit:
				return
			}
			if !ok || ev.Finish != "" {
				return
			}
		}
	}()
	return nil
}

// startFanout prepares the choices (newFanout) and submits the first
// choice of every prompt. When one cannot be submitted, it cancels the
// others, answers with the error and returns nil.
func (s *Server) startFanout(w http.ResponseWriter, r *http.Request, b *backend, start time.Time, prompts []engine.Request, n int) *fanout {
	f := s.newFanout(r, b, start, prompts, n)
	for i, l := range f.lead {
		if l != i {
			continue
		}
		if ae := f.submit(i); ae != nil {
			f.close()
			s.fail(w, r, ae)
			return nil
		}
	}
	return f
}

// collect runs f for a whole (not streamed) response, passing each event
// to add. It reports false when the response is settled already: the
// client went away, or an error was sent (a choice failed or could not be
// submitted).
func (f *fanout) collect(w http.ResponseWriter, add func(i int, ev engine.Event)) bool {
	ok, ae := f.run(func(i int, ev engine.Event) error {
		add(i, ev)
		return nil
	})
	if ev, failed := f.failed(); ok && failed {
		ae = generationError(ev)
	}
	if ae != nil {
		f.s.fail(w, f.r, ae)
		return false
	}
	return ok
}

// run passes every choice's events to each, in arrival order, until every
// choice has finished, submitting a prompt's other choices after its
// leader's first event. ok is false when the client went away or each
// returned an error; ae is set when a choice could not be submitted.
func (f *fanout) run(each func(i int, ev engine.Event) error) (ok bool, ae *apiError) {
	left := len(f.reqs)
	for left > 0 {
		ce, ok := f.next()
		if !ok || !ce.ok {
			return false, nil
		}
		i := ce.index
		if f.lead[i] == i {
			for j := i + 1; j < len(f.lead) && f.lead[j] == i && f.gens[j] == nil; j++ {
				if ae := f.submit(j); ae != nil {
					return false, ae
				}
			}
		}
		if ce.ev.Finish != "" {
			f.finals[i] = ce.ev
			left--
		}
		if each(i, ce.ev) != nil {
			return false, nil
		}
	}
	return true, nil
}

// next waits for the next choice event. While it waits, a stream whose
// client has closed its side is probed every probeInterval; ok is false
// when the probe finds the client gone.
func (f *fanout) next() (ce choiceEvent, ok bool) {
	var halfClosed <-chan struct{}
	if f.probe != nil {
		halfClosed = clientHalfClosed(f.r.Context())
	}
	var tick <-chan time.Time
	for {
		select {
		case ce := <-f.events:
			return ce, true
		case <-halfClosed:
			t := time.NewTicker(probeInterval)
			defer t.Stop()
			halfClosed, tick = nil, t.C
		case <-tick:
			if f.probe() != nil {
				return choiceEvent{}, false
			}
		}
	}
}

// failed returns the first choice that ended in an error, if any.
func (f *fanout) failed() (engine.Event, bool) {
	for _, ev := range f.finals {
		if ev.Finish == engine.FinishError {
			return ev, true
		}
	}
	return engine.Event{}, false
}

// usage sums the choices' usage as OpenAI counts it: each prompt's tokens
// (and cached tokens) once, every choice's completion tokens.
func (f *fanout) usage() engine.Usage {
	var u engine.Usage
	for i, g := range f.gens {
		if g == nil {
			continue
		}
		c := g.usage
		if f.lead[i] == i {
			u.PromptTokens += c.PromptTokens
			u.CachedTokens += c.CachedTokens
		}
		u.CompletionTokens += c.CompletionTokens
		u.KVTokensKept += c.KVTokensKept
		u.KVTokensEvicted += c.KVTokensEvicted
	}
	return u
}

// summary is a final event carrying the summed usage, for endStream.
func (f *fanout) summary() engine.Event {
	return engine.Event{Finish: engine.FinishStop, Usage: f.usage()}
}

// close ends every choice (cancelling those still running), waits for the
// relays, and records the summed usage for the access log.
func (f *fanout) close() {
	close(f.quit)
	for _, g := range f.gens {
		if g != nil {
			g.cancel()
		}
	}
	f.wg.Wait()
	var out *outcome
	for i, g := range f.gens {
		if g != nil {
			g.close(f.finals[i])
			out = g.out
		}
	}
	if out != nil {
		out.usage = f.usage()
	}
}
