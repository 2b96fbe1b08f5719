package hub

import "errors"

// Errors callers branch on; each is wrapped with the repository or file
// it is about.
var (
	// ErrUnreachable: the hub could not be reached (no network, DNS, a
	// refused connection).
	ErrUnreachable = errors.New("cannot reach the Hugging Face hub")
	// ErrNotFound: no such repository, revision or file on the hub.
	ErrNotFound = errors.New("not found on the Hugging Face hub")
	// ErrUnauthorized: the hub wants a token (a private repository, or one
	// that does not exist) or rejected the one given.
	ErrUnauthorized = errors.New("not authorized")
	// ErrGated: the repository is gated and the token has no access to it.
	ErrGated = errors.New("gated repository")
	// ErrChecksum: a downloaded file's sha256 differs from the hub's.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotCached: the model is not in the local cache.
	ErrNotCached = errors.New("not in the model cache")
	// ErrBadRef: a malformed repository or file name.
	ErrBadRef = errors.New("bad model reference")
	// ErrNoModel: the repository holds no GGUF or safetensors model, or
	// several GGUF files and none was named.
	ErrNoModel = errors.New("no model to pull")
)
