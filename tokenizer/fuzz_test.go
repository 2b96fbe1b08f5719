package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Seed vocabularies for FuzzParseVocab, one per file format, built here from
// a handful of pieces: ids 0-2 are <unk>, <s>, </s>.
var seedPieces = []string{"<unk>", "<s>", "</s>", "<0x41>", "▁", "a", "b", "ab", "▁ab"}

// llama2cSeed encodes pieces as a llama2.c tokenizer.bin.
func llama2cSeed() []byte {
	b := binary.LittleEndian.AppendUint32(nil, 8)
	for i, p := range seedPieces {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(-float32(i)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// sentencePieceSeed encodes pieces as a SentencePiece BPE ModelProto.
func sentencePieceSeed() []byte {
	var b []byte
	for i, p := range seedPieces {
		var piece []byte
		piece = protowire.AppendTag(piece, spPieceText, protowire.BytesType)
		piece = protowire.AppendString(piece, p)
		piece = protowire.AppendTag(piece, spPieceScore, protowire.Fixed32Type)
		piece = protowire.AppendFixed32(piece, math.Float32bits(-float32(i)))
		typ := uint64(TypeNormal)
		switch {
		case i == 0:
			typ = uint64(TypeUnknown)
		case i < 3:
			typ = uint64(TypeControl)
		case i == 3:
			typ = uint64(TypeByte)
		}
		piece = protowire.AppendTag(piece, spPieceType, protowire.VarintType)
		piece = protowire.AppendVarint(piece, typ)
		b = protowire.AppendTag(b, spFieldPieces, protowire.BytesType)
		b = protowire.AppendBytes(b, piece)
	}
	var trainer []byte
	trainer = protowire.AppendTag(trainer, spTrainerModelType, protowire.VarintType)
	trainer = protowire.AppendVarint(trainer, spModelBPE)
	b = protowire.AppendTag(b, spFieldTrainer, protowire.BytesType)
	return protowire.AppendBytes(b, trainer)
}

// tiktokenSeed encodes a few byte tokens as a tiktoken file.
func tiktokenSeed() []byte {
	var b []byte
	for rank, tok := range []string{"a", "b", " ", "ab", " ab"} {
		b = append(b, base64.StdEncoding.EncodeToString([]byte(tok))...)
		b = append(b, ' ')
		b = append(b, []byte(string(rune('0'+rank)))...)
		b = append(b, '\n')
	}
	return b
}

// tokenizerJSONSeed returns a tokenizer.json: byte-level, or SentencePiece-style.
func tokenizerJSONSeed(tb testing.TB, byteLevel bool) []byte {
	tb.Helper()
	vocab := map[string]int{}
	for i, p := range seedPieces {
		vocab[p] = i
	}
	hf := map[string]any{
		"added_tokens": []any{map[string]any{"id": 9, "content": "<|eot|>", "special": true}},
		"model":        map[string]any{"type": "BPE", "vocab": vocab, "merges": []string{"a b", "▁ ab"}, "byte_fallback": !byteLevel},
	}
	if byteLevel {
		hf["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"Regex": llama3Pattern}}
		hf["normalizer"] = map[string]any{"type": "ByteLevel", "use_regex": false}
	} else {
		hf["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"}, map[string]any{"type": "Replace", "content": "▁"}}}
	}
	b, err := json.Marshal(hf)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzParseVocab feeds arbitrary bytes to the tokenizer file readers
// (llama2.c tokenizer.bin, SentencePiece ModelProto, tiktoken, tokenizer.json)
// and builds and runs whatever they accept. Nothing may panic, errors wrap a
// sentinel, and encoded ids lie in the vocabulary.
func FuzzParseVocab(f *testing.F) {
	for _, seed := range [][]byte{llama2cSeed(), sentencePieceSeed(), tiktokenSeed(),
		tokenizerJSONSeed(f, true), tokenizerJSONSeed(f, false)} {
		v, err := parseVocab(seed, f.TempDir())
		if err == nil {
			_, err = New(v)
		}
		if err != nil {
			f.Fatalf("seed %.40q: %v", seed, err)
		}
		f.Add(seed)
	}
	// The allocation recipes: ids and ranks far past the entries are refused.
	for _, bad := range []string{
		`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 2147483646}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}`,
		`{"added_tokens": [{"id": 2147483647, "content": "x"}], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}`,
		"IQ== 16777215\n",
	} {
		if _, err := parseVocab([]byte(bad), f.TempDir()); !errors.Is(err, ErrBadVocab) {
			f.Fatalf("%s: %v, want ErrBadVocab", bad, err)
		}
		f.Add([]byte(bad))
	}
	dir := f.TempDir() // no tokenizer_config.json beside the input
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseVocab(data, dir)
		if err == nil {
			var tok Tokenizer
			if tok, err = New(v); err == nil {
				ids := tok.Encode("ab a\n<s> é\xff", EncodeOptions{AddBOS: true, AddEOS: true, ParseSpecial: true})
				for _, id := range ids {
					if id < 0 || int(id) >= tok.VocabSize() {
						t.Fatalf("Encode gave id %d of %d", id, tok.VocabSize())
					}
				}
				_ = tok.Decode(append(ids, -1, int32(tok.VocabSize())))
			}
		}
		if err != nil && !errors.Is(err, ErrBadVocab) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error %v wraps neither sentinel", err)
		}
	})
}
