package tokenizer

import (
	"slices"
	"testing"
)

// splitAll applies a splitter to the whole of s.
func splitAll(s string, split splitter) []string {
	var pieces []string
	for i := 0; i < len(s); {
		end := split(s, i)
		if end <= i {
			panic("splitter made no progress")
		}
		pieces = append(pieces, s[i:end])
		i = end
	}
	return pieces
}

// The expected splits are worked out by hand from the patterns, matching
// alternatives left to right at each position as a backtracking engine does.
func TestSplitLlama3(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"I'm here", []string{"I", "'m", " here"}},
		{"don'T 'Sa", []string{"don", "'T", " '", "Sa"}},
		{"'ll've", []string{"'ll", "'ve"}},
		{"'era", []string{"'era"}},
		{"12345", []string{"123", "45"}},
		{"  hello", []string{" ", " hello"}},
		{"a  \n\n b", []string{"a", "  \n\n", " b"}},
		{"!!!\n\nx", []string{"!!!\n\n", "x"}},
		{"x\t!", []string{"x", "\t", "!"}},
		{"end  ", []string{"end", "  "}},
		{" 3", []string{" ", "3"}},
		{"(hi)", []string{"(hi", ")"}},
		{" (x", []string{" (", "x"}},
		{"\r\n", []string{"\r\n"}},
		{"a\u00a0b", []string{"a", "\u00a0b"}},
		{"\n =", []string{"\n", " ="}},
		{"шлях 世界", []string{"шлях", " 世界"}},
		{"a\xffb", []string{"a", "\xffb"}},
	}
	for _, tt := range tests {
		if got := splitAll(tt.text, splitLlama3); !slices.Equal(got, tt.want) {
			t.Errorf("splitLlama3(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSplitGPT2(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"I'm", []string{"I", "'m"}},
		{"I'M", []string{"I", "'", "M"}},
		{"  hello", []string{" ", " hello"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"12345 42", []string{"12345", " 42"}},
		{"hi!! ?", []string{"hi", "!!", " ?"}},
		{"end  ", []string{"end", "  "}},
	}
	for _, tt := range tests {
		if got := splitAll(tt.text, splitGPT2); !slices.Equal(got, tt.want) {
			t.Errorf("splitGPT2(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestByteRunes(t *testing.T) {
	m := newByteRunes()
	// Well-known entries of GPT-2's table: space is "Ġ", newline "Ċ",
	// tab "ĉ", 0x7F is U+0121, the soft hyphen 0xAD is the last, U+0143.
	tests := []struct {
		b byte
		r rune
	}{{' ', 'Ġ'}, {'\n', 'Ċ'}, {'\t', 'ĉ'}, {0x00, 0x100}, {0x7F, 0x121}, {0xAD, 0x143}, {'A', 'A'}, {0xFF, 0xFF}}
	for _, tt := range tests {
		if m.toRune[tt.b] != tt.r {
			t.Errorf("byte %#x maps to %U, want %U", tt.b, m.toRune[tt.b], tt.r)
		}
	}
	var all []byte
	for b := range 256 {
		all = append(all, byte(b))
	}
	back, ok := m.decode(m.encode(all))
	if !ok || !slices.Equal(back, all) {
		t.Errorf("round trip of all bytes failed")
	}
	if _, ok := m.decode("a€"); ok {
		t.Errorf("decode accepted a rune outside the table")
	}
}
