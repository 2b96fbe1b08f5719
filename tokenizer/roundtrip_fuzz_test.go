package tokenizer_test

import (
	"bytes"
	"strings"
	"testing"

	"sieve/internal/testmodels"
	"sieve/tokenizer"
)

// roundTripSeeds are texts that exercise spaces, newlines, digits, special
// token text, multi-byte and invalid UTF-8.
var roundTripSeeds = []string{
	"", " ", "Hello, world!", "  two  spaces\n\n\ttab", "12345 67.89", "é ü 日本語 🙂",
	"<s></s>[INST]", "<|begin_of_text|><|eot_id|>", "\xff\xfe\x80 bad bytes", "a\u00a0b\u200b",
	"don't I'll WE'RE", strings.Repeat("ab", 40),
}

// checkEncoding checks what holds for any text: ids lie in the vocabulary
// and the streaming pieces concatenate to Decode.
func checkEncoding(t *testing.T, tok tokenizer.Tokenizer, ids []int32) string {
	t.Helper()
	var pieces []byte
	prev := int32(-1)
	for _, id := range ids {
		if id < 0 || int(id) >= tok.VocabSize() {
			t.Fatalf("id %d outside the %d-token vocabulary", id, tok.VocabSize())
		}
		pieces = append(pieces, tok.Piece(prev, id)...)
		prev = id
	}
	text := tok.Decode(ids)
	if !bytes.Equal(pieces, []byte(text)) {
		t.Fatalf("pieces %q differ from Decode %q", pieces, text)
	}
	return text
}

// fuzzRoundTrip runs the round trip on the tokenizer in file: with special
// tokens parsed, only checkEncoding's properties; as plain text, the text
// must come back exactly when exact says so.
func fuzzRoundTrip(f *testing.F, file string, exact func(s string) bool) {
	tok, err := tokenizer.Load(testmodels.Path(f, file))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range roundTripSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkEncoding(t, tok, tok.Encode(s, tokenizer.EncodeOptions{AddBOS: true, ParseSpecial: true}))
		ids := tok.Encode(s, tokenizer.EncodeOptions{})
		if got := checkEncoding(t, tok, ids); exact(s) && got != s {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, got, ids)
		}
	})
}

// FuzzSentencePieceRoundTrip: Llama 2's SentencePiece BPE (byte fallback)
// gives back any valid UTF-8 text that has no "▁" of its own (SentencePiece
// reads "▁" in the input as a space).
func FuzzSentencePieceRoundTrip(f *testing.F) {
	fuzzRoundTrip(f, "tokenizer.model", func(s string) bool {
		return !strings.Contains(s, "▁")
	})
}

// FuzzByteBPERoundTrip: Llama 3's byte-level BPE gives back any bytes.
func FuzzByteBPERoundTrip(f *testing.F) {
	fuzzRoundTrip(f, "llama3-tokenizer.model", func(string) bool { return true })
}
