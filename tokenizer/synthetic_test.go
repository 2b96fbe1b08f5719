package tokenizer_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"sieve/tokenizer"
)

// tinySentencePiece is a hand-made SentencePiece vocab: ids 0-2 special,
// 3-4 byte tokens for 0xC3 and 0xA9 ("é"), then pieces with scores.
func tinySentencePiece() *tokenizer.Vocab {
	return &tokenizer.Vocab{
		Kind:   tokenizer.SentencePiece,
		Tokens: []string{"<unk>", "<s>", "</s>", "<0xC3>", "<0xA9>", "▁", "a", "b", "c", "aa", "ab", "bc", "▁a", "▁ab"},
		Scores: []float32{0, 0, 0, 0, 0, -1, -2, -3, -4, -5, -20, -10, -6, -30},
		Types:  []tokenizer.TokenType{2, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		BOS:    1, EOS: 2, UNK: 0, PAD: -1,
		AddBOS: true, AddSpacePrefix: true,
	}
}

func TestSentencePieceMerges(t *testing.T) {
	tok, err := tokenizer.New(tinySentencePiece())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want []int32
	}{
		// "▁aaa": ▁a (-6) beats aa (-5)? No: aa scores higher (-5 > -6), and
		// the two "aa" pairs tie, so the leftmost one merges: ▁ aa a, then
		// nothing else merges ("▁aa" is not a token).
		{"aaa", []int32{5, 9, 6}},
		// "▁abc": bc (-10) beats ab (-20): ▁a (-6) first, then bc.
		{"abc", []int32{12, 11}},
		// "é" has no piece: byte fallback to 0xC3 0xA9.
		{"é", []int32{5, 3, 4}},
		// "d" has no piece and its byte has no byte token: UNK.
		{"d", []int32{5, 0}},
		{"", nil},
	}
	for _, tt := range tests {
		got := tok.Encode(tt.text, tokenizer.EncodeOptions{})
		if !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	if got := tok.Decode([]int32{1, 12, 7, 5, 3, 4, 0}); got != "ab é ⁇ " {
		t.Errorf("Decode = %q", got)
	}
}

func TestSentencePieceNoSpacePrefix(t *testing.T) {
	v := tinySentencePiece()
	v.AddSpacePrefix = false
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("a b", tokenizer.EncodeOptions{}), []int32{6, 5, 7}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got := string(tok.Piece(-1, 12)); got != " a" {
		t.Errorf("Piece without space prefix = %q, want %q", got, " a")
	}
}

// tinyByteBPE is a hand-made byte-level vocab (GPT-2 byte form: "Ġ" is a
// space) with an explicit merge list.
func tinyByteBPE() *tokenizer.Vocab {
	return &tokenizer.Vocab{
		Kind:   tokenizer.ByteBPE,
		Tokens: []string{"a", "b", "c", "Ġ", "ab", "bc", "abc", "Ġa", "<|end|>"},
		Types:  []tokenizer.TokenType{1, 1, 1, 1, 1, 1, 1, 1, 3},
		Merges: []string{"b c", "a b", "Ġ a", "a bc"},
		Pre:    "gpt2",
		BOS:    -1, EOS: 8, UNK: -1, PAD: -1,
	}
}

func TestByteBPEMerges(t *testing.T) {
	tok, err := tokenizer.New(tinyByteBPE())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		opts tokenizer.EncodeOptions
		want []int32
	}{
		// "b c" has rank 0: a bc, then "a bc" (rank 3) makes abc.
		{"abc", tokenizer.EncodeOptions{}, []int32{6}},
		// "ab" + " abc": the second piece is Ġ a b c -> Ġ a bc -> Ġa bc.
		{"ab abc", tokenizer.EncodeOptions{}, []int32{4, 7, 5}},
		{"a<|end|>", tokenizer.EncodeOptions{}, nil}, // '<' has no token: dropped without UNK
		{"a<|end|>", tokenizer.EncodeOptions{ParseSpecial: true}, []int32{0, 8}},
		{"c", tokenizer.EncodeOptions{AddBOS: true, AddEOS: true}, []int32{2, 8}},
	}
	for _, tt := range tests {
		got := tok.Encode(tt.text, tt.opts)
		if tt.want == nil {
			if slices.Contains(got, 8) {
				t.Errorf("Encode(%q) = %v holds the special token", tt.text, got)
			}
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	if got := tok.Decode([]int32{4, 7, 5, 8}); got != "ab abc" {
		t.Errorf("Decode = %q", got)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(v *tokenizer.Vocab)
		want   error
	}{
		{"no tokens", func(v *tokenizer.Vocab) { v.Tokens, v.Scores, v.Types = nil, nil, nil }, tokenizer.ErrBadVocab},
		{"short scores", func(v *tokenizer.Vocab) { v.Scores = v.Scores[:3] }, tokenizer.ErrBadVocab},
		{"no scores", func(v *tokenizer.Vocab) { v.Scores = nil }, tokenizer.ErrBadVocab},
		{"short types", func(v *tokenizer.Vocab) { v.Types = v.Types[:3] }, tokenizer.ErrBadVocab},
		{"eos out of range", func(v *tokenizer.Vocab) { v.EOS = 99 }, tokenizer.ErrBadVocab},
		{"eot out of range", func(v *tokenizer.Vocab) { v.EOT = []int32{-1} }, tokenizer.ErrBadVocab},
		{"kind", func(v *tokenizer.Vocab) { v.Kind = 7 }, tokenizer.ErrUnsupported},
		{"pre", func(v *tokenizer.Vocab) { v.Kind, v.Pre = tokenizer.ByteBPE, "qwen2" }, tokenizer.ErrUnsupported},
	}
	for _, tt := range tests {
		v := tinySentencePiece()
		tt.change(v)
		if _, err := tokenizer.New(v); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := tokenizer.New(nil); !errors.Is(err, tokenizer.ErrBadVocab) {
		t.Errorf("nil vocab: error %v", err)
	}
}

func TestDecoder(t *testing.T) {
	tok, err := tokenizer.New(tinySentencePiece())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		prev  int32
		ids   []int32
		want  []string // returned by each Add
		flush string
	}{
		{"split character", -1, []int32{12, 3, 4, 7}, []string{"a", "", "é", "b"}, ""},
		{"after prompt", 6, []int32{12}, []string{" a"}, ""},
		{"truncated at end", 7, []int32{3}, []string{""}, "\xc3"},
		{"stray continuation byte", 7, []int32{4, 7}, []string{"\xa9", "b"}, ""},
		{"control", -1, []int32{1, 12, 2}, []string{"", "a", ""}, ""},
	}
	for _, tt := range tests {
		d := tokenizer.NewDecoder(tok, tt.prev)
		var got []string
		for _, id := range tt.ids {
			got = append(got, d.Add(id))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Add gives %q, want %q", tt.name, got, tt.want)
		}
		if f := d.Flush(); f != tt.flush {
			t.Errorf("%s: Flush = %q, want %q", tt.name, f, tt.flush)
		}
	}
}

func TestTokenizerJSONConfig(t *testing.T) {
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "tokenizer.json"), map[string]any{
		"added_tokens": []any{
			map[string]any{"id": 5, "content": "<|start|>", "special": true},
			map[string]any{"id": 6, "content": "<|stop|>", "special": true},
			map[string]any{"id": 7, "content": "<tool>", "special": false},
		},
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
		"model": map[string]any{"type": "BPE", "vocab": map[string]int{"a": 0, "b": 1, "Ġ": 2, "ab": 3, "Ġab": 4},
			"merges": [][]string{{"a", "b"}, {"Ġ", "ab"}}},
	})
	writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{
		"bos_token": "<|start|>", "eos_token": map[string]any{"content": "<|stop|>"}, "add_bos_token": true,
	})
	v, err := tokenizer.ReadVocabFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != tokenizer.ByteBPE || v.Pre != "gpt2" || v.BOS != 5 || v.EOS != 6 || !v.AddBOS {
		t.Errorf("kind %v pre %q BOS %d EOS %d AddBOS %v", v.Kind, v.Pre, v.BOS, v.EOS, v.AddBOS)
	}
	if v.Types[7] != tokenizer.TypeUserDefined || v.Types[6] != tokenizer.TypeControl {
		t.Errorf("types %v", v.Types)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	got := tok.Encode("ab ab<tool>", tokenizer.EncodeOptions{AddBOS: true, ParseSpecial: true})
	if want := []int32{5, 3, 4, 7}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if s := tok.Decode(got); s != "ab ab<tool>" {
		t.Errorf("Decode = %q", s)
	}
}
