package tokenizer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// Load reads a tokenizer file (see ReadVocabFile) and builds its tokenizer.
func Load(path string) (Tokenizer, error) {
	v, err := ReadVocabFile(path)
	if err != nil {
		return nil, err
	}
	t, err := New(v)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

// ReadVocabFile reads a tokenizer file, detecting its format by content: a
// llama2.c tokenizer.bin, a SentencePiece tokenizer.model, Meta's Llama 3
// tiktoken tokenizer.model or a Hugging Face tokenizer.json (for which a
// tokenizer_config.json beside it, if any, supplies BOS/EOS). A GGUF file
// gives an error wrapping ErrUnsupported: read its metadata and call
// FromGGUF instead.
func ReadVocabFile(path string) (*Vocab, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := parseVocab(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return v, nil
}

// parseVocab detects the format of a tokenizer file's contents and reads
// it; dir is the file's directory, for the files that go with a tokenizer.json.
func parseVocab(data []byte, dir string) (*Vocab, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(data, []byte("GGUF")):
		return nil, fmt.Errorf("%w: a GGUF file; read its metadata and use FromGGUF", ErrUnsupported)
	case len(trimmed) > 0 && trimmed[0] == '{':
		return parseHFTokenizerJSON(data, readOptional(filepath.Join(dir, "tokenizer_config.json")))
	case looksLikeTiktoken(data):
		return parseTiktoken(data)
	case len(data) > 0 && data[0] == 0x0A:
		// A SentencePiece ModelProto starts with field 1 (a piece), tag 0x0A.
		v, err := parseSentencePieceModel(data)
		if err == nil {
			return v, nil
		}
		if lv, lerr := parseLlama2c(data); lerr == nil {
			return lv, nil
		}
		return nil, err
	case looksLikeLlama2c(data):
		return parseLlama2c(data)
	}
	return nil, fmt.Errorf("%w: unrecognised tokenizer file format", ErrUnsupported)
}

// readOptional returns the contents of path, or nil if it cannot be read.
func readOptional(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return data
}
