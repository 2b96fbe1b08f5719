package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressLinesWithoutATerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "work")
	for i := 1; i <= 40; i++ {
		p.update(i, 40)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 10 || lines[0] != "work: 4/40 (10%)" || lines[9] != "work: 40/40 (100%)" {
		t.Fatalf("progress lines %q, want one per tenth", lines)
	}
}
