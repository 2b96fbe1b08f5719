// Package load opens a model in any supported format — a GGUF file, a
// llama2.c checkpoint, or a Hugging Face directory — together with its
// tokenizer.
package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"sieve/model"
	"sieve/model/gguf"
	"sieve/model/llama2c"
	"sieve/model/safetensors"
	"sieve/tokenizer"
)

// ErrNoTokenizer: the model file carries no tokenizer and none was given.
var ErrNoTokenizer = errors.New("model has no tokenizer; pass one with -z")

// Open loads the model at path. tokenizerPath, when not empty, names a
// tokenizer file that overrides the one inside the model (and is required
// for llama2.c checkpoints, which carry none).
func Open(path, tokenizerPath string) (*model.Model, error) {
	m, err := openModel(path)
	if err != nil {
		return nil, err
	}
	return finish(m, path, tokenizerPath)
}

// GGUFBytes loads a GGUF model held in memory (an embedded file, say) under
// the given name; its weights are read in place from buf, which must stay
// unchanged while the model is in use. tokenizerPath is as for Open.
func GGUFBytes(name string, buf []byte, tokenizerPath string) (*model.Model, error) {
	f, err := gguf.Parse(buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, err := withGGUFTokenizer(f, name)
	if err != nil {
		return nil, err
	}
	m.Name = name
	return finish(m, name, tokenizerPath)
}

// finish applies the tokenizer override to a freshly opened model and checks
// that the model has a tokenizer that fits its vocabulary; it closes m on
// error.
func finish(m *model.Model, path, tokenizerPath string) (*model.Model, error) {
	if tokenizerPath != "" {
		tok, err := Tokenizer(tokenizerPath)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.Tokenizer = tok
	}
	if m.Tokenizer == nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrNoTokenizer)
	}
	if v := m.Tokenizer.VocabSize(); v > m.Config.VocabSize {
		m.Close()
		return nil, fmt.Errorf("%w: tokenizer has %d tokens but the model only %d", model.ErrBadModel, v, m.Config.VocabSize)
	}
	return m, nil
}

func openModel(path string) (*model.Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return safetensors.LoadDir(path)
	}
	magic, err := readMagic(path)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(magic, []byte("GGUF")) {
		return openGGUF(path)
	}
	return llama2c.Load(path)
}

func openGGUF(path string) (*model.Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	return withGGUFTokenizer(f, path)
}

// withGGUFTokenizer builds the model of an open GGUF file, with the file's
// tokenizer when it has one; it closes f on error.
func withGGUFTokenizer(f *gguf.File, name string) (*model.Model, error) {
	m, err := f.Model()
	if err != nil {
		f.Close()
		return nil, err
	}
	if _, ok := f.Metadata["tokenizer.ggml.model"]; ok {
		tok, err := ggufTokenizer(f)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		m.Tokenizer = tok
	}
	return m, nil
}

func ggufTokenizer(f *gguf.File) (tokenizer.Tokenizer, error) {
	v, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		return nil, err
	}
	return tokenizer.New(v)
}

// Tokenizer loads a standalone tokenizer file: a llama2.c tokenizer.bin, a
// SentencePiece or tiktoken tokenizer.model, a tokenizer.json, or a GGUF
// file's vocabulary.
func Tokenizer(path string) (tokenizer.Tokenizer, error) {
	magic, err := readMagic(path)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(magic, []byte("GGUF")) {
		return tokenizer.Load(path) // its errors name the file
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ggufTokenizer(f)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

func readMagic(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, err := io.ReadFull(f, magic)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return magic[:n], nil
}
