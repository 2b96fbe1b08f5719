package tokenizer

import "errors"

// Sentinel errors that readers and New wrap, so callers can branch on the cause.
var (
	// ErrUnsupported: the input is valid but uses a tokenizer model,
	// pre-tokenizer or file format Sieve does not handle.
	ErrUnsupported = errors.New("unsupported tokenizer")
	// ErrBadVocab: the vocabulary data is malformed or inconsistent.
	ErrBadVocab = errors.New("invalid tokenizer vocabulary")
)
