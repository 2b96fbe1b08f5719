package tokenizer_test

import (
	"strings"
	"testing"
	"time"

	"sieve/tokenizer"
)

// benchText is ordinary English prose with some punctuation and digits.
const benchText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. " +
	"One day, she saw a big, red ball; it cost $12.50 in 2023! \"Wow,\" she said. "

func benchmarkEncode(b *testing.B, file string) {
	tok := loadFile(b, file)
	text := strings.Repeat(benchText, 50)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text, tokenizer.EncodeOptions{})
	}
}

func BenchmarkEncodeLlama2(b *testing.B) { benchmarkEncode(b, "tokenizer.model") }
func BenchmarkEncodeLlama3(b *testing.B) { benchmarkEncode(b, "llama3-tokenizer.model") }

// TestLongInputs guards against quadratic merging: one long run of a
// single character is a single SentencePiece sequence and a single
// byte-level piece.
func TestLongInputs(t *testing.T) {
	for _, file := range []string{"tokenizer.model", "llama3-tokenizer.model"} {
		tok := loadFile(t, file)
		text := strings.Repeat("ab", 100_000)
		start := time.Now()
		ids := tok.Encode(text, tokenizer.EncodeOptions{})
		if got := tok.Decode(ids); got != text {
			t.Errorf("%s: long text does not round-trip", file)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: encoding 200 kB took %v", file, d)
		}
	}
}
