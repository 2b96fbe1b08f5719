// Package llama2c loads checkpoints in the formats of Karpathy's llama2.c:
// the legacy fp32 export and the version-1 "ak42" fp32 export.
package llama2c

import (
	"fmt"
	"path/filepath"
	"strings"

	"sieve/internal/mmap"
	"sieve/model"
)

// Load memory-maps the llama2.c checkpoint at path and returns its model.
// The weight matrices point into the mapping; Close on the model releases
// it. The files carry no tokenizer, so Model.Tokenizer is nil.
func Load(path string) (*model.Model, error) {
	f, err := mmap.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llama2c: %w", err)
	}
	m, err := parse(f.Bytes())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("llama2c %s: %w", path, err)
	}
	m.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	m.Closer = f
	return m, nil
}

// parse builds a model whose weights slice data in place.
func parse(data []byte) (*model.Model, error) {
	h, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	if want := h.fileSize(); int64(len(data)) != want {
		return nil, fmt.Errorf("%w: file is %d bytes, header implies %d", model.ErrBadModel, len(data), want)
	}
	cfg := h.config()
	if err := cfg.Check(headerKeys()); err != nil {
		return nil, err
	}
	var w model.Weights
	if h.v1 {
		w = readV1(h, &cursor{data: data, off: v1HeaderBytes})
	} else {
		w = readLegacy(h, &cursor{data: data, off: legacyHeaderBytes})
	}
	return &model.Model{Format: "llama2c", Config: cfg, Weights: w}, nil
}
