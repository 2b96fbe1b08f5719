package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"sieve/engine"
)

// sse writes server-sent events.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startSSE sends the event-stream headers.
func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &sse{w: w, rc: http.NewResponseController(w)}
	s.rc.Flush()
	return s
}

// send writes v as one "data:" event and flushes it.
func (s *sse) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return s.raw(b)
}

// done writes the closing "data: [DONE]" event.
func (s *sse) done() error { return s.raw([]byte("[DONE]")) }

// ping writes an empty comment, which event-stream readers ignore: it
// finds out whether the client is still there (see generation.next).
func (s *sse) ping() error { return s.write([]byte(":\n\n")) }

func (s *sse) raw(data []byte) error {
	buf := make([]byte, 0, len(data)+8)
	buf = append(buf, "data: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	return s.write(buf)
}

// write writes buf and flushes it.
func (s *sse) write(buf []byte) error {
	if _, err := s.w.Write(buf); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	if err := s.rc.Flush(); err != nil {
		return fmt.Errorf("flush event: %w", err)
	}
	return nil
}

// relay passes a generation's events to send, with each event's OpenAI
// finish reason (nil while running), until the final event, which it
// returns. An error event goes out in OpenAI's error shape and ends the
// relay. ok is false when the client went away or a send failed: the
// stream must then be abandoned.
func relay(out *sse, g *generation, send func(ev engine.Event, finish *string) error) (final engine.Event, ok bool) {
	g.probe = out.ping
	for {
		ev, more := g.next()
		if !more {
			return final, false
		}
		if ev.Finish == engine.FinishError {
			out.send(generationError(ev).body())
			return ev, true
		}
		var finish *string
		if ev.Finish != "" {
			final, finish = ev, finishReason(ev.Finish)
		}
		if send(ev, finish) != nil {
			return final, false
		}
		if finish != nil {
			return final, true
		}
	}
}

// endStream closes a stream: with includeUsage, and unless it ended in an
// error, it first sends chunk with no choices and its usage set from the
// final event.
func endStream[C any](out *sse, includeUsage bool, final engine.Event, chunk response[C]) {
	if includeUsage && final.Finish != engine.FinishError {
		chunk.Choices = []C{}
		chunk.Usage = usageOf(final.Usage)
		if out.send(chunk) != nil {
			return
		}
	}
	out.done()
}
