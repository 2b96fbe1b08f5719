package tokenizer_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"unicode/utf8"

	"sieve/internal/testmodels"
	"sieve/model/gguf"
	"sieve/tokenizer"
)

// openGGUFVocab reads the tokenizer metadata of a GGUF test file.
func openGGUFVocab(t *testing.T, name string) tokenizer.Tokenizer {
	t.Helper()
	f, err := gguf.Open(testmodels.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestGGUFLlama2Vectors(t *testing.T) {
	tok := openGGUFVocab(t, "ggml-vocab-llama-spm.gguf")
	if tok.VocabSize() != 32000 || tok.BOS() != 1 || tok.EOS() != 2 {
		t.Errorf("vocab %d, BOS %d, EOS %d; want 32000, 1, 2", tok.VocabSize(), tok.BOS(), tok.EOS())
	}
	checkVectors(t, tok, readVectors(t, "ggml-vocab-llama-spm.gguf"))
}

func TestGGUFStories260K(t *testing.T) {
	tok := openGGUFVocab(t, "stories260K.gguf")
	got := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true})
	if want := []int32{1, 403, 407, 261, 378}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// gpt2ByteRunes is GPT-2's byte-to-unicode table, written out here from its
// definition: printable bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) stand for
// themselves, the others for U+0100 onwards in byte order.
func gpt2ByteRunes() [256]rune {
	var m [256]rune
	next := rune(0x100)
	for b := range 256 {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[b] = rune(b)
		} else {
			m[b] = next
			next++
		}
	}
	return m
}

// llama3Tables is the Llama 3 vocab rebuilt from the tiktoken file the way
// GGUF and tokenizer.json store it.
type llama3Tables struct {
	tokens []string // GPT-2 form for the 128000 ranked tokens, then the specials
	merges []string // "left right", ordered by the rank of the merged token
}

// llama3Specials are the special tokens 128000..128255 of Meta's list.
func llama3Specials() []string {
	s := []string{"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
		"<|reserved_special_token_1|>", "<|reserved_special_token_2|>", "<|reserved_special_token_3|>",
		"<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_4|>", "<|eot_id|>"}
	for i := 5; i <= 250; i++ {
		s = append(s, "<|reserved_special_token_"+strconv.Itoa(i)+"|>")
	}
	return s
}

// buildLlama3Tables reads llama3-tokenizer.model and derives the merge list
// from the ranks: every split of a token into two tokens is a merge, and
// merges are ordered by the rank of the token they make (then by the ranks
// of their parts), which is how tiktoken's rank-driven BPE is expressed as
// a merge list.
func buildLlama3Tables(t *testing.T) llama3Tables {
	t.Helper()
	data, err := os.ReadFile(testmodels.Path(t, "llama3-tokenizer.model"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []string
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
		fields := bytes.Fields(line)
		b, err := base64.StdEncoding.DecodeString(string(fields[0]))
		if err != nil {
			t.Fatal(err)
		}
		if rank, _ := strconv.Atoi(string(fields[1])); rank != len(raw) {
			t.Fatalf("rank %d on line %d", rank, len(raw))
		}
		raw = append(raw, string(b))
	}
	rank := make(map[string]int, len(raw))
	for i, r := range raw {
		rank[r] = i
	}
	br := gpt2ByteRunes()
	encode := func(s string) string {
		out := make([]byte, 0, 2*len(s))
		for i := 0; i < len(s); i++ {
			out = utf8.AppendRune(out, br[s[i]])
		}
		return string(out)
	}
	tb := llama3Tables{}
	for _, r := range raw {
		tb.tokens = append(tb.tokens, encode(r))
	}
	tb.tokens = append(tb.tokens, llama3Specials()...)
	type split struct{ l, r, lr, rr int }
	for _, r := range raw {
		var local []split
		for i := 1; i < len(r); i++ {
			lr, okl := rank[r[:i]]
			rr, okr := rank[r[i:]]
			if okl && okr {
				local = append(local, split{i, 0, lr, rr})
			}
		}
		slices.SortFunc(local, func(a, b split) int {
			if a.lr != b.lr {
				return a.lr - b.lr
			}
			return a.rr - b.rr
		})
		for _, s := range local {
			tb.merges = append(tb.merges, encode(r[:s.l])+" "+encode(r[s.l:]))
		}
	}
	return tb
}

func TestLlama3DerivedSources(t *testing.T) {
	tb := buildLlama3Tables(t)
	vs := readVectors(t, "ggml-vocab-llama-bpe.gguf")
	types := make([]int32, len(tb.tokens))
	for i := range types {
		types[i] = 1
		if i >= 128000 {
			types[i] = 3
		}
	}
	t.Run("gguf-metadata", func(t *testing.T) {
		md := map[string]any{
			"tokenizer.ggml.model":         "gpt2",
			"tokenizer.ggml.pre":           "llama-bpe",
			"tokenizer.ggml.tokens":        tb.tokens,
			"tokenizer.ggml.token_type":    types,
			"tokenizer.ggml.merges":        tb.merges,
			"tokenizer.ggml.bos_token_id":  uint32(128000),
			"tokenizer.ggml.eos_token_id":  int64(128001),
			"tokenizer.ggml.add_bos_token": true,
		}
		v, err := tokenizer.FromGGUF(md)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tokenizer.New(v)
		if err != nil {
			t.Fatal(err)
		}
		checkLlama3Specials(t, tok)
		checkVectors(t, tok, vs)
	})
	t.Run("tokenizer.json", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tokenizer.json")
		writeJSON(t, path, llama3TokenizerJSON(tb))
		tok, err := tokenizer.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		checkLlama3Specials(t, tok)
		checkVectors(t, tok, vs)
	})
}

// checkLlama3Specials checks the special ids of a Llama 3 tokenizer.
func checkLlama3Specials(t *testing.T, tok tokenizer.Tokenizer) {
	t.Helper()
	if tok.VocabSize() != 128256 || tok.BOS() != 128000 || tok.EOS() != 128001 {
		t.Errorf("vocab %d, BOS %d, EOS %d; want 128256, 128000, 128001", tok.VocabSize(), tok.BOS(), tok.EOS())
	}
	if stop := tok.StopTokens(); !slices.Contains(stop, 128001) || !slices.Contains(stop, 128009) {
		t.Errorf("stop tokens %v lack 128001 or 128009", stop)
	}
	if got := tok.Encode("Hi", tokenizer.EncodeOptions{AddBOS: true}); len(got) == 0 || got[0] != 128000 {
		t.Errorf("AddBOS gives %v", got)
	}
}

// llama3TokenizerJSON builds a Hugging Face tokenizer.json for Llama 3.
func llama3TokenizerJSON(tb llama3Tables) map[string]any {
	vocab := make(map[string]int, 128000)
	for id, tok := range tb.tokens[:128000] {
		vocab[tok] = id
	}
	var added []map[string]any
	for i, s := range tb.tokens[128000:] {
		added = append(added, map[string]any{"id": 128000 + i, "content": s, "special": true})
	}
	return map[string]any{
		"version":      "1.0",
		"added_tokens": added,
		"normalizer":   nil,
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}},
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<|begin_of_text|>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}}},
		"decoder": map[string]any{"type": "ByteLevel"},
		"model": map[string]any{"type": "BPE", "ignore_merges": true, "byte_fallback": false,
			"vocab": vocab, "merges": tb.merges},
	}
}

// writeJSON writes v as JSON to path.
func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLlama2TokenizerJSON checks a SentencePiece-style tokenizer.json (as
// Hugging Face stores Llama 2: "▁" pieces, byte fallback, a merge list in
// place of scores) built from the GGUF vocab: every split of a normal
// piece into two pieces is a merge, ordered by the piece's score.
func TestLlama2TokenizerJSON(t *testing.T) {
	f, err := gguf.Open(testmodels.Path(t, "ggml-vocab-llama-spm.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tokens, ok1 := f.Metadata["tokenizer.ggml.tokens"].([]string)
	scores, ok2 := f.Metadata["tokenizer.ggml.scores"].([]float32)
	types, ok3 := f.Metadata["tokenizer.ggml.token_type"].([]int32)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("unexpected metadata types %T %T %T", f.Metadata["tokenizer.ggml.tokens"],
			f.Metadata["tokenizer.ggml.scores"], f.Metadata["tokenizer.ggml.token_type"])
	}
	vocab := make(map[string]int, len(tokens))
	for id, tok := range tokens {
		vocab[tok] = id
	}
	normal := func(s string) bool { id, ok := vocab[s]; return ok && types[id] == 1 }
	order := make([]int, 0, len(tokens))
	for id := range tokens {
		if types[id] == 1 {
			order = append(order, id)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	var merges []string
	for _, id := range order {
		piece := tokens[id]
		for i := range piece {
			if i > 0 && normal(piece[:i]) && normal(piece[i:]) {
				merges = append(merges, piece[:i]+" "+piece[i:])
			}
		}
	}
	var added []map[string]any
	for id, tt := range types {
		if tt == 2 || tt == 3 {
			added = append(added, map[string]any{"id": id, "content": tokens[id], "special": true})
		}
	}
	doc := map[string]any{
		"added_tokens": added,
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"},
		}},
		"pre_tokenizer": nil,
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}}},
		"model": map[string]any{"type": "BPE", "byte_fallback": true, "fuse_unk": true, "unk_token": "<unk>",
			"vocab": vocab, "merges": merges},
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	writeJSON(t, path, doc)
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if tok.BOS() != 1 || tok.EOS() != 2 || !tok.IsControl(1) {
		t.Errorf("BOS %d EOS %d control %v; want 1 2 true", tok.BOS(), tok.EOS(), tok.IsControl(1))
	}
	checkVectors(t, tok, readVectors(t, "ggml-vocab-llama-spm.gguf"))
}
