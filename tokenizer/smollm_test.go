package tokenizer

import (
	"slices"
	"testing"
)

// The expected splits come from Python's regex module applying the two
// patterns of llama.cpp's "smollm" pre-tokenizer in turn: \p{N} splits the
// text into single number characters and the stretches between them, then
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// is matched (regex.finditer) within each stretch.
func TestSplitSmolLM(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Hello 2024!  x", []string{"Hello", " ", "2", "0", "2", "4", "!", " ", " x"}},
		{"a   1", []string{"a", "   ", "1"}},
		{"a 1", []string{"a", " ", "1"}},
		{"a\n 1", []string{"a", "\n ", "1"}},
		{"x  y", []string{"x", " ", " y"}},
		{" abc 1", []string{" abc", " ", "1"}},
		{"I'm 42 years", []string{"I", "'m", " ", "4", "2", " years"}},
		{"3.14159", []string{"3", ".", "1", "4", "1", "5", "9"}},
		{"pi is  \t 3", []string{"pi", " is", "  \t ", "3"}},
		{"end  ", []string{"end", "  "}},
		{"٣٤ and ½", []string{"٣", "٤", " and", " ", "½"}},
		{"'s1'll", []string{"'s", "1", "'ll"}},
		{"a\nb 1", []string{"a", "\n", "b", " ", "1"}},
	}
	for _, tt := range tests {
		if got := splitAll(tt.text, splitSmolLM); !slices.Equal(got, tt.want) {
			t.Errorf("splitSmolLM(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestTokenizerJSONDigitsPreTokenizer(t *testing.T) {
	pre := func(digits string) string {
		return `{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},` +
			`"pre_tokenizer":{"type":"Sequence","pretokenizers":[` +
			`{"type":"Digits","individual_digits":` + digits + `},` +
			`{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}]}}`
	}
	v, err := parseHFTokenizerJSON([]byte(pre("true")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != ByteBPE || v.Pre != "smollm" {
		t.Errorf("individual digits + ByteLevel: kind %v pre %q, want byte BPE \"smollm\"", v.Kind, v.Pre)
	}
	if _, err := New(v); err != nil {
		t.Errorf("a smollm byte-level vocabulary does not build: %v", err)
	}
	if _, err := parseHFTokenizerJSON([]byte(pre("false")), nil); err == nil {
		t.Error("Digits keeping runs together was accepted; Sieve has no such split")
	}
}
