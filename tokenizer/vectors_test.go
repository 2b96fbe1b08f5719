package tokenizer_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sieve/internal/testmodels"
	"sieve/tokenizer"
)

// vectorSeparator separates the inputs of llama.cpp's tokenizer test files.
const vectorSeparator = "\n__ggml_vocab_test__\n"

// vector is one llama.cpp tokenizer test case: a text and its ids (no BOS).
type vector struct {
	text string
	ids  []int32
}

// readVectors reads tokenizer-tests/<name>.inp and .out. Every input in the
// .inp file is followed by the separator, so splitting on it gives 47
// parts: the 46 texts and the empty text after the last separator; the .out
// file, split on newlines, likewise ends with an empty line. Both are kept
// as pairs (the last one checks that "" encodes to nothing).
func readVectors(t *testing.T, name string) []vector {
	t.Helper()
	inp, err := os.ReadFile(testmodels.Path(t, "tokenizer-tests/"+name+".inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(testmodels.Path(t, "tokenizer-tests/"+name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), vectorSeparator)
	lines := strings.Split(string(out), "\n")
	if len(texts) != 47 || len(lines) != 47 {
		t.Fatalf("%s: %d inputs and %d outputs, want 47 each", name, len(texts), len(lines))
	}
	vs := make([]vector, len(texts))
	for i, text := range texts {
		vs[i].text = text
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				t.Fatalf("%s line %d: %v", name, i+1, err)
			}
			vs[i].ids = append(vs[i].ids, int32(id))
		}
	}
	return vs
}

// checkVectors encodes every vector's text with tok and compares the ids,
// then checks that decoding the ids gives the text back. All 47 vectors of
// both vocabularies round-trip: SentencePiece pieces and byte tokens cover
// every byte, and the dummy-prefix space that encoding adds is dropped again
// by Piece at the start of the text.
func checkVectors(t *testing.T, tok tokenizer.Tokenizer, vs []vector) {
	t.Helper()
	bad := 0
	for i, v := range vs {
		got := tok.Encode(v.text, tokenizer.EncodeOptions{})
		if !slices.Equal(got, v.ids) {
			bad++
			t.Errorf("vector %d %q:\n got %v\nwant %v", i, v.text, got, v.ids)
			continue
		}
		if back := tok.Decode(v.ids); back != v.text {
			bad++
			t.Errorf("vector %d: decode gives %q, want %q", i, back, v.text)
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d vectors failed", bad, len(vs))
	}
}

// loadFile builds a tokenizer from a file of the test models directory.
func loadFile(t testing.TB, name string) tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(testmodels.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLlama2Vectors(t *testing.T) {
	vs := readVectors(t, "ggml-vocab-llama-spm.gguf")
	for _, name := range []string{"tokenizer.model", "tokenizer.bin"} {
		t.Run(name, func(t *testing.T) {
			checkVectors(t, loadFile(t, name), vs)
		})
	}
}

func TestLlama3Vectors(t *testing.T) {
	checkVectors(t, loadFile(t, "llama3-tokenizer.model"), readVectors(t, "ggml-vocab-llama-bpe.gguf"))
}
