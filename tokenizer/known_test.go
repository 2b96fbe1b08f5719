package tokenizer_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"sieve/internal/testmodels"
	"sieve/tokenizer"
)

func TestKnownEncodings(t *testing.T) {
	tests := []struct {
		file string
		text string
		opts tokenizer.EncodeOptions
		want []int32
	}{
		{"tok512.model", "Once upon a time", tokenizer.EncodeOptions{}, []int32{403, 407, 261, 378}},
		{"tok512.bin", "Once upon a time", tokenizer.EncodeOptions{}, []int32{403, 407, 261, 378}},
		{"tok512.bin", "Once upon a time", tokenizer.EncodeOptions{AddBOS: true, AddEOS: true}, []int32{1, 403, 407, 261, 378, 2}},
		{"tokenizer.model", "Hello world! Once upon a time", tokenizer.EncodeOptions{}, []int32{15043, 3186, 29991, 9038, 2501, 263, 931}},
		{"tokenizer.bin", "Hello world! Once upon a time", tokenizer.EncodeOptions{AddBOS: true}, []int32{1, 15043, 3186, 29991, 9038, 2501, 263, 931}},
		{"llama3-tokenizer.model", "Hello world", tokenizer.EncodeOptions{}, []int32{9906, 1917}},
		{"llama3-tokenizer.model", "Hello world", tokenizer.EncodeOptions{AddBOS: true}, []int32{128000, 9906, 1917}},
		// tok105 has single characters only and no byte tokens (ids from
		// its piece list: 3 "▁", 34 "O", 9 "n", 22 "c", 4 "e", 8 "h",
		// 10 "i"); characters outside it are UNK (0), one UNK per run of
		// them, as SentencePiece itself encodes them.
		{"tok105.model", "Once", tokenizer.EncodeOptions{}, []int32{3, 34, 9, 22, 4}},
		{"tok105.model", "hi 😀", tokenizer.EncodeOptions{}, []int32{3, 8, 10, 3, 0}},
		{"tok105.bin", "hi 😀ж", tokenizer.EncodeOptions{}, []int32{3, 8, 10, 3, 0}},
		{"tok105.bin", "\r\n", tokenizer.EncodeOptions{}, []int32{3, 0}},
		{"tok105.bin", "😀 ж", tokenizer.EncodeOptions{}, []int32{3, 0, 3, 0}},
	}
	loaded := map[string]tokenizer.Tokenizer{}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.text, func(t *testing.T) {
			tok, ok := loaded[tt.file]
			if !ok {
				tok = loadFile(t, tt.file)
				loaded[tt.file] = tok
			}
			if got := tok.Encode(tt.text, tt.opts); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSpecialTokenText(t *testing.T) {
	llama2 := loadFile(t, "tokenizer.model")
	llama3 := loadFile(t, "llama3-tokenizer.model")
	tests := []struct {
		name string
		tok  tokenizer.Tokenizer
		text string
		want []int32 // with ParseSpecial
	}{
		// After a special token the dummy prefix applies again: "▁Hello" is 15043.
		{"llama2", llama2, "<s>Hello</s>", []int32{1, 15043, 2}},
		{"llama3", llama3, "<|begin_of_text|>Hello<|eot_id|>", []int32{128000, 9906, 128009}},
		{"llama3 header", llama3, "<|start_header_id|>user<|end_header_id|>", []int32{128006, 882, 128007}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.tok.Encode(tt.text, tokenizer.EncodeOptions{ParseSpecial: true})
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseSpecial: got %v, want %v", got, tt.want)
			}
			plain := tt.tok.Encode(tt.text, tokenizer.EncodeOptions{})
			for _, id := range plain {
				if tt.tok.IsControl(id) {
					t.Errorf("without ParseSpecial %v holds control token %d", plain, id)
				}
			}
			if back := tt.tok.Decode(plain); back != tt.text {
				t.Errorf("without ParseSpecial: decode gives %q, want %q", back, tt.text)
			}
		})
	}
}

func TestPiece(t *testing.T) {
	llama2 := loadFile(t, "tokenizer.model")
	llama3 := loadFile(t, "llama3-tokenizer.model")
	tests := []struct {
		name     string
		tok      tokenizer.Tokenizer
		prev, id int32
		want     string
	}{
		{"spm start drops prefix space", llama2, -1, 15043, "Hello"},
		{"spm after BOS drops prefix space", llama2, 1, 15043, "Hello"},
		{"spm mid-text keeps space", llama2, 3186, 15043, " Hello"},
		{"spm byte token", llama2, 15043, 13, "\n"},
		{"spm byte token at start", llama2, -1, 13, "\n"},
		{"spm control", llama2, 15043, 2, ""},
		{"spm bare space at start", llama2, -1, 29871, ""},
		{"bpe keeps leading space", llama3, -1, 1917, " world"},
		{"bpe after BOS", llama3, 128000, 22691, " Hello"},
		{"bpe control", llama3, 9906, 128009, ""},
		{"bpe newline", llama3, 9906, 198, "\n"},
		{"out of range", llama3, -1, 1 << 20, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.tok.Piece(tt.prev, tt.id)); got != tt.want {
				t.Errorf("Piece(%d, %d) = %q, want %q", tt.prev, tt.id, got, tt.want)
			}
		})
	}
}

func TestSpecialIDs(t *testing.T) {
	tests := []struct {
		file      string
		bos, eos  int32
		stop      []int32
		control   string
		controlID int32
	}{
		{"tokenizer.model", 1, 2, []int32{2}, "</s>", 2},
		{"tokenizer.bin", 1, 2, []int32{2}, "</s>", 2},
		{"llama3-tokenizer.model", 128000, 128001, []int32{128001, 128009}, "<|eot_id|>", 128009},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tok := loadFile(t, tt.file)
			if tok.BOS() != tt.bos || tok.EOS() != tt.eos {
				t.Errorf("BOS %d EOS %d, want %d %d", tok.BOS(), tok.EOS(), tt.bos, tt.eos)
			}
			if got := tok.StopTokens(); !slices.Equal(got, tt.stop) {
				t.Errorf("StopTokens %v, want %v", got, tt.stop)
			}
			id, ok := tok.TokenID(tt.control)
			if !ok || id != tt.controlID || !tok.IsControl(id) {
				t.Errorf("TokenID(%q) = %d, %v (control %v), want %d", tt.control, id, ok, tok.IsControl(id), tt.controlID)
			}
			if tok.IsControl(100) {
				t.Error("IsControl(100) = true for a normal token")
			}
		})
	}
}

func TestLlama3StopTokensWithoutEOTMetadata(t *testing.T) {
	v, err := tokenizer.ReadVocabFile(testmodels.Path(t, "llama3-tokenizer.model"))
	if err != nil {
		t.Fatal(err)
	}
	v.EOT = nil
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.StopTokens(), []int32{128001, 128009}; !slices.Equal(got, want) {
		t.Errorf("StopTokens %v, want %v", got, want)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bin, err := os.ReadFile(testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"gguf", testmodels.Path(t, "ggml-vocab-llama-spm.gguf"), tokenizer.ErrUnsupported},
		{"truncated llama2.c", write("trunc.bin", bin[:len(bin)-3]), tokenizer.ErrBadVocab},
		{"unknown format", write("x.bin", []byte("\xff\xff\xff\xffnot a tokenizer")), tokenizer.ErrUnsupported},
		{"tiktoken duplicate rank", write("dup.tiktoken", []byte("IQ== 0\nIg== 0\n")), tokenizer.ErrBadVocab},
		{"json unigram", write("tokenizer.json", []byte(`{"model":{"type":"Unigram","vocab":[]}}`)), tokenizer.ErrUnsupported},
		{"json bad", write("bad.json", []byte(`{"model":`)), tokenizer.ErrBadVocab},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tokenizer.Load(tt.path)
			if !errors.Is(err, tt.want) {
				t.Errorf("Load error %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := tokenizer.Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFromGGUFErrors(t *testing.T) {
	tokens := []string{"<unk>", "<s>", "</s>", "a"}
	scores := []float32{0, 0, 0, -1}
	tests := []struct {
		name string
		md   map[string]any
		want error
		msg  string
	}{
		{"unknown model", map[string]any{"tokenizer.ggml.model": "foo", "tokenizer.ggml.tokens": tokens}, tokenizer.ErrUnsupported, `unsupported tokenizer model "foo"`},
		{"no model", map[string]any{"tokenizer.ggml.tokens": tokens}, tokenizer.ErrBadVocab, ""},
		{"no tokens", map[string]any{"tokenizer.ggml.model": "llama"}, tokenizer.ErrBadVocab, ""},
		{"short scores", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.scores": scores[:2]}, tokenizer.ErrBadVocab, ""},
		{"bos out of range", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.scores": scores, "tokenizer.ggml.bos_token_id": uint32(9)}, tokenizer.ErrBadVocab, ""},
		{"bos not integer", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.scores": scores, "tokenizer.ggml.bos_token_id": "1"}, tokenizer.ErrBadVocab, ""},
		{"gpt2 without merges", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": tokens}, tokenizer.ErrBadVocab, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tokenizer.FromGGUF(tt.md)
			if !errors.Is(err, tt.want) || !strings.Contains(fmtErr(err), tt.msg) {
				t.Errorf("error %v, want %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
}

// fmtErr returns err's message, or "" for nil.
func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestFromGGUFIntegerTypes(t *testing.T) {
	ids := []any{int8(1), uint8(1), int16(1), uint16(1), int32(1), uint32(1), int64(1), uint64(1)}
	types := []any{[]int32{2, 3, 3, 1}, []uint32{2, 3, 3, 1}, []int8{2, 3, 3, 1}, []uint8{2, 3, 3, 1}, []int64{2, 3, 3, 1}, []any{int32(2), int32(3), int32(3), int32(1)}}
	for i, id := range ids {
		md := map[string]any{
			"tokenizer.ggml.model":              "llama",
			"tokenizer.ggml.tokens":             []string{"<unk>", "<s>", "</s>", "▁a"},
			"tokenizer.ggml.scores":             []float32{0, 0, 0, -1},
			"tokenizer.ggml.token_type":         types[i%len(types)],
			"tokenizer.ggml.bos_token_id":       id,
			"tokenizer.ggml.eos_token_id":       id,
			"tokenizer.ggml.eot_token_id":       id,
			"tokenizer.ggml.padding_token_id":   int32(-1),
			"tokenizer.ggml.add_space_prefix":   false,
			"tokenizer.ggml.add_eos_token":      true,
			"tokenizer.ggml.unknown_token_id":   uint32(0xFFFFFFFF),
			"tokenizer.ggml.add_bos_token":      false,
			"general.architecture":              "llama",
			"tokenizer.ggml.some_unknown_field": 3.5,
		}
		v, err := tokenizer.FromGGUF(md)
		if err != nil {
			t.Fatalf("%T: %v", id, err)
		}
		if v.BOS != 1 || v.EOS != 1 || !slices.Equal(v.EOT, []int32{1}) || v.PAD != -1 || v.UNK != -1 {
			t.Errorf("%T: BOS %d EOS %d EOT %v PAD %d UNK %d", id, v.BOS, v.EOS, v.EOT, v.PAD, v.UNK)
		}
		if v.AddSpacePrefix || v.AddBOS || !v.AddEOS {
			t.Errorf("%T: flags space %v bos %v eos %v", id, v.AddSpacePrefix, v.AddBOS, v.AddEOS)
		}
		if v.Types[0] != tokenizer.TypeUnknown || v.Types[1] != tokenizer.TypeControl || v.Types[3] != tokenizer.TypeNormal {
			t.Errorf("%T: types %v", id, v.Types)
		}
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := loadFile(t, "llama3-tokenizer.model")
	vs := readVectors(t, "ggml-vocab-llama-bpe.gguf")
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(vs))
	for range 8 {
		wg.Go(func() {
			for _, v := range vs {
				if got := tok.Encode(v.text, tokenizer.EncodeOptions{}); !slices.Equal(got, v.ids) {
					errs <- v.text
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for text := range errs {
		t.Errorf("concurrent encode of %q differs", text)
	}
}

func TestOptionalMethods(t *testing.T) {
	type extras interface {
		AddBOS() bool
		TokenText(id int32) string
	}
	tests := []struct {
		file   string
		addBOS bool
		id     int32
		text   string
	}{
		{"tokenizer.model", true, 15043, "▁Hello"},
		{"llama3-tokenizer.model", true, 128009, "<|eot_id|>"},
	}
	for _, tt := range tests {
		tok, ok := loadFile(t, tt.file).(extras)
		if !ok {
			t.Fatalf("%s: tokenizer lacks AddBOS/TokenText", tt.file)
		}
		if tok.AddBOS() != tt.addBOS || tok.TokenText(tt.id) != tt.text || tok.TokenText(-1) != "" {
			t.Errorf("%s: AddBOS %v, TokenText(%d) %q", tt.file, tok.AddBOS(), tt.id, tok.TokenText(tt.id))
		}
	}
}
