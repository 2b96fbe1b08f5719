package hub

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress is told about each download as it goes.
type Progress interface {
	// Start begins a file of total bytes (-1 when unknown), done of which
	// are already there (a resumed download).
	Start(name string, total, done int64)
	// Advance adds n downloaded bytes.
	Advance(n int64)
	// Finish ends the current file, complete or not.
	Finish()
}

// Bar draws progress on w: a bar redrawn in place on a terminal, else a
// line at every tenth of the file.
type Bar struct {
	w        io.Writer
	terminal bool
	now      func() time.Time

	name               string
	total, done, begin int64
	started, drawn     time.Time
	shownTenths        int64
}

// NewBar returns a Bar that writes to w, redrawing in place when terminal.
func NewBar(w io.Writer, terminal bool) *Bar {
	return &Bar{w: w, terminal: terminal, now: time.Now}
}

// Start implements Progress.
func (b *Bar) Start(name string, total, done int64) {
	b.name, b.total, b.done, b.begin = name, total, done, done
	b.started, b.drawn = b.now(), time.Time{}
	b.shownTenths = b.tenths()
	if !b.terminal {
		resumed := ""
		if done > 0 {
			resumed = fmt.Sprintf(", resuming at %s", mb(done))
		}
		fmt.Fprintf(b.w, "downloading %s (%s%s)\n", name, sizeText(total), resumed)
		return
	}
	b.draw()
}

// Advance implements Progress.
func (b *Bar) Advance(n int64) {
	b.done += n
	if b.terminal {
		if b.now().Sub(b.drawn) >= 100*time.Millisecond {
			b.draw()
		}
		return
	}
	if t := b.tenths(); t > b.shownTenths && t < 10 {
		b.shownTenths = t
		fmt.Fprintf(b.w, "  %s: %d%% (%s of %s)\n", b.name, t*10, mb(b.done), mb(b.total))
	}
}

// Finish implements Progress.
func (b *Bar) Finish() {
	if b.terminal {
		b.draw()
		fmt.Fprintln(b.w)
		return
	}
	if b.total >= 0 && b.done == b.total {
		fmt.Fprintf(b.w, "  %s: done, %s\n", b.name, mb(b.done))
	}
}

// tenths is how many tenths of the file are done (0 when the size is unknown).
func (b *Bar) tenths() int64 {
	if b.total <= 0 {
		return 0
	}
	return b.done * 10 / b.total
}

// draw redraws the terminal line.
func (b *Bar) draw() {
	b.drawn = b.now()
	const width = 30
	rate := ""
	if secs := b.drawn.Sub(b.started).Seconds(); secs > 0.5 {
		rate = fmt.Sprintf(" %s/s", mb(int64(float64(b.done-b.begin)/secs)))
	}
	if b.total <= 0 {
		fmt.Fprintf(b.w, "\r%s %s%s\x1b[K", b.name, mb(b.done), rate)
		return
	}
	fill := int(min(b.done, b.total) * width / b.total)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(b.w, "\r%s [%s] %3d%% %s / %s%s\x1b[K", b.name, bar, b.done*100/b.total, mb(b.done), mb(b.total), rate)
}

// sizeText is a size, or "size unknown".
func sizeText(n int64) string {
	if n < 0 {
		return "size unknown"
	}
	return mb(n)
}

// mb formats a byte count in megabytes (or kilobytes below one MB).
func mb(n int64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
