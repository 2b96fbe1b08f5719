package eval

import (
	"os"
	"slices"
	"testing"

	"sieve/internal/testmodels"
	"sieve/tokenizer"
)

// tok512 loads the stories260K tokenizer.
func tok512(t *testing.T) tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// stories reads the evaluation text.
func stories(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/stories.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWindows(t *testing.T) {
	tok := tok512(t)
	enc := func(s string) []int32 { return tok.Encode(s, tokenizer.EncodeOptions{}) }
	bos := tok.BOS()
	text := stories(t)
	docs := documents(text)
	if len(docs) != 3 {
		t.Fatalf("testdata/stories.txt has %d documents, want 3", len(docs))
	}
	first := enc(docs[0])
	tests := []struct {
		name        string
		text        string
		ctx, minLen int
		want        [][]int32
	}{
		{"short text, one window", "Once upon a time", 512, 0, [][]int32{append([]int32{bos}, enc("Once upon a time")...)}},
		{"blank lines split documents", "Tom ran.\n  \nSue sat.\r\n\r\n\n", 512, 0,
			[][]int32{append([]int32{bos}, enc("Tom ran.")...), append([]int32{bos}, enc("Sue sat.")...)}},
		{"a short tail is dropped", docs[0], 300, 300,
			[][]int32{append([]int32{bos}, first[:299]...), append([]int32{bos}, first[299:598]...)}},
		{"a long tail is kept", docs[0], 300, 100,
			[][]int32{append([]int32{bos}, first[:299]...), append([]int32{bos}, first[299:598]...), append([]int32{bos}, first[598:]...)}},
		{"nothing long enough keeps everything", "Tom ran.\n\nSue sat.", 512, 100,
			[][]int32{append([]int32{bos}, enc("Tom ran.")...), append([]int32{bos}, enc("Sue sat.")...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Windows(tok, tt.text, tt.ctx, tt.minLen)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("got %d windows of lengths %v, want %d of %v", len(got), lens(got), len(tt.want), lens(tt.want))
			}
		})
	}
	if len(first) < 598 {
		t.Fatalf("the first story has %d tokens; the cases above need more than 598", len(first))
	}
	for _, text := range []string{"", " \n\n \n"} {
		if _, err := Windows(tok, text, 512, 0); err == nil {
			t.Errorf("Windows(%q) gave no error", text)
		}
	}
}

// lens returns the length of each sequence.
func lens(seqs [][]int32) []int {
	out := make([]int, len(seqs))
	for i, s := range seqs {
		out[i] = len(s)
	}
	return out
}
