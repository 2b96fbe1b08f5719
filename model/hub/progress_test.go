package hub

import (
	"strings"
	"testing"
)

func TestBarPlainLines(t *testing.T) {
	var out strings.Builder
	b := NewBar(&out, false)
	b.Start("org/m:m.gguf", 2_000_000, 500_000)
	for range 15 {
		b.Advance(100_000)
	}
	b.Finish()
	want := "downloading org/m:m.gguf (2.0 MB, resuming at 500.0 kB)\n" +
		"  org/m:m.gguf: 30% (600.0 kB of 2.0 MB)\n" +
		"  org/m:m.gguf: 40% (800.0 kB of 2.0 MB)\n" +
		"  org/m:m.gguf: 50% (1.0 MB of 2.0 MB)\n" +
		"  org/m:m.gguf: 60% (1.2 MB of 2.0 MB)\n" +
		"  org/m:m.gguf: 70% (1.4 MB of 2.0 MB)\n" +
		"  org/m:m.gguf: 80% (1.6 MB of 2.0 MB)\n" +
		"  org/m:m.gguf: 90% (1.8 MB of 2.0 MB)\n" +
		"  org/m:m.gguf: done, 2.0 MB\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestBarTerminalRedrawsOneLine(t *testing.T) {
	var out strings.Builder
	b := NewBar(&out, true)
	b.Start("m.gguf", 1000, 0)
	b.Advance(2000) // more than announced must not break the bar
	b.Finish()
	s := out.String()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") || !strings.Contains(s, "\r") {
		t.Errorf("terminal output %q: want lines redrawn with \\r and one final newline", s)
	}
	if !strings.Contains(s, "[==============================]") {
		t.Errorf("terminal output %q: want a full bar at the end", s)
	}
}
