package model

import "errors"

// Sentinel errors that loaders wrap, so callers can branch on the cause.
var (
	// ErrBadModel: the file is not a valid model (wrong magic, truncated, inconsistent shapes).
	ErrBadModel = errors.New("invalid model file")
	// ErrUnsupported: the file is valid but uses something Sieve does not support
	// (a tensor type, an architecture, a format version).
	ErrUnsupported = errors.New("unsupported model")
)
