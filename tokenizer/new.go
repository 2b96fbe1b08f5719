package tokenizer

import "fmt"

// New builds the tokenizer a vocabulary describes. The tokenizer keeps
// references to v's slices, which must not be modified afterwards.
func New(v *Vocab) (Tokenizer, error) {
	if err := validate(v); err != nil {
		return nil, err
	}
	types := tokenTypes(v)
	switch v.Kind {
	case SentencePiece:
		return newSentencePiece(v, types), nil
	case ByteBPE:
		return newByteBPE(v, types)
	}
	return nil, fmt.Errorf("%w: tokenizer kind %d", ErrUnsupported, v.Kind)
}

// validate checks that v is self-consistent.
func validate(v *Vocab) error {
	if v == nil || len(v.Tokens) == 0 {
		return fmt.Errorf("%w: no tokens", ErrBadVocab)
	}
	n := len(v.Tokens)
	switch {
	case n > MaxVocabSize:
		return fmt.Errorf("%w: %d tokens (at most %d)", ErrBadVocab, n, MaxVocabSize)
	case v.Scores != nil && len(v.Scores) != n:
		return fmt.Errorf("%w: %d scores for %d tokens", ErrBadVocab, len(v.Scores), n)
	case v.Types != nil && len(v.Types) != n:
		return fmt.Errorf("%w: %d token types for %d tokens", ErrBadVocab, len(v.Types), n)
	case v.Kind == SentencePiece && v.Scores == nil:
		return fmt.Errorf("%w: SentencePiece vocabulary without scores", ErrBadVocab)
	case v.Kind != SentencePiece && v.Kind != ByteBPE:
		return fmt.Errorf("%w: tokenizer kind %d", ErrUnsupported, v.Kind)
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"BOS", v.BOS}, {"EOS", v.EOS}, {"UNK", v.UNK}, {"PAD", v.PAD}} {
		if s.id < -1 || int(s.id) >= n {
			return fmt.Errorf("%w: %s id %d out of range [0, %d)", ErrBadVocab, s.name, s.id, n)
		}
	}
	for _, id := range v.EOT {
		if id < 0 || int(id) >= n {
			return fmt.Errorf("%w: end-of-turn id %d out of range [0, %d)", ErrBadVocab, id, n)
		}
	}
	return nil
}

// tokenTypes returns v.Types, or, when the vocab has none, types inferred
// from the special ids and (for SentencePiece) the "<0xAB>" byte pieces.
func tokenTypes(v *Vocab) []TokenType {
	if v.Types != nil {
		return v.Types
	}
	types := make([]TokenType, len(v.Tokens))
	for id, text := range v.Tokens {
		types[id] = TypeNormal
		if _, ok := parseByteToken(text); ok && v.Kind == SentencePiece {
			types[id] = TypeByte
		}
	}
	for _, id := range []int32{v.BOS, v.EOS} {
		if id >= 0 {
			types[id] = TypeControl
		}
	}
	if v.UNK >= 0 {
		types[v.UNK] = TypeUnknown
	}
	return types
}

// parseByteToken parses a SentencePiece byte piece such as "<0x0A>".
func parseByteToken(text string) (byte, bool) {
	if len(text) != 6 || text[:3] != "<0x" || text[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexDigit(text[3])
	lo, ok2 := hexDigit(text[4])
	return hi<<4 | lo, ok1 && ok2
}

// hexDigit returns the value of an upper- or lower-case hex digit.
func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
