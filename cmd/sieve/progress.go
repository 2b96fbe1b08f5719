package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// progress reports a long run's progress on w: a bar redrawn in place when
// w is a terminal, otherwise a line at every tenth of the work.
type progress struct {
	w     io.Writer
	label string
	tty   bool
	last  int // tenths reported (not a terminal)
}

// newProgress returns a progress reporter for label on w.
func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// update reports done of total units.
func (p *progress) update(done, total int) {
	if total <= 0 {
		return
	}
	if p.tty {
		const width = 30
		fill := width * done / total
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total)
		if done >= total {
			fmt.Fprintln(p.w)
		}
		return
	}
	if t := 10 * done / total; t > p.last {
		p.last = t
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", p.label, done, total, 100*done/total)
	}
}
