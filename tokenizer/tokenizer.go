// Package tokenizer turns text into token ids and back for Llama-family
// vocabularies: SentencePiece BPE with byte fallback (Llama 2) and byte-level
// BPE with the Llama 3 pre-tokenizer (tiktoken style).
package tokenizer

// Tokenizer encodes text to token ids and decodes ids to text.
type Tokenizer interface {
	// Encode tokenizes text. It never adds BOS/EOS unless opts asks, and
	// treats special-token text as plain text unless opts.ParseSpecial.
	Encode(text string, opts EncodeOptions) []int32
	// Piece returns the raw bytes token id contributes to the decoded text
	// when it follows token prev (prev < 0 at the start). It is the
	// streaming form of Decode: concatenating Piece over a sequence gives
	// exactly the bytes of Decode. Control tokens contribute nothing. The
	// result may be shared: callers must not modify it.
	Piece(prev, id int32) []byte
	// Decode returns the text of a token sequence.
	Decode(ids []int32) string
	// VocabSize is the number of token ids.
	VocabSize() int
	// BOS returns the beginning-of-sequence id, or -1.
	BOS() int32
	// EOS returns the end-of-sequence id, or -1.
	EOS() int32
	// StopTokens returns every id that ends generation (EOS, end-of-turn, ...).
	StopTokens() []int32
	// TokenID returns the id of a token given by its exact piece text
	// (e.g. "<|eot_id|>"), and whether it exists.
	TokenID(piece string) (int32, bool)
	// IsControl reports whether id is a control/special token.
	IsControl(id int32) bool
}

// EncodeOptions controls Encode.
type EncodeOptions struct {
	AddBOS       bool // prepend BOS
	AddEOS       bool // append EOS
	ParseSpecial bool // recognise special-token text such as "<|eot_id|>" as the special token
}
