package serve

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress reports finished requests on a writer: a bar redrawn in place
// on a terminal, else a line every tenth of the run. A nil Progress
// reports nothing.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	total    int
	done     int
	failed   int
	start    time.Time
	lastDraw time.Time
	lastTen  int
}

// NewProgress returns a progress report of total requests on w; tty says
// whether w is a terminal.
func NewProgress(w io.Writer, tty bool, label string, total int) *Progress {
	return &Progress{w: w, tty: tty, label: label, total: total, start: time.Now()}
}

// Done counts one finished request.
func (p *Progress) Done(ok bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if !ok {
		p.failed++
	}
	if p.tty {
		if time.Since(p.lastDraw) >= 100*time.Millisecond || p.done == p.total {
			p.draw()
		}
		return
	}
	if ten := 10 * p.done / max(p.total, 1); ten > p.lastTen {
		p.lastTen = ten
		fmt.Fprintf(p.w, "%s: %d/%d requests (%d failed), %.1fs\n", p.label, p.done, p.total, p.failed, time.Since(p.start).Seconds())
	}
}

// draw redraws the bar; the caller holds p.mu.
func (p *Progress) draw() {
	const width = 30
	filled := width * p.done / max(p.total, 1)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d (%d failed) %.1fs", p.label, strings.Repeat("=", filled),
		strings.Repeat(" ", width-filled), p.done, p.total, p.failed, time.Since(p.start).Seconds())
	p.lastDraw = time.Now()
}

// Finish ends the bar's line.
func (p *Progress) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
