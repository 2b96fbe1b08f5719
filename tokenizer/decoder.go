package tokenizer

import "unicode/utf8"

// Decoder turns a stream of token ids into text for streaming. It holds
// back the bytes of a UTF-8 character split across tokens (byte-fallback or
// byte-level tokens) until the character is complete, so every string it
// returns is whole characters. Bytes that can never form a valid character
// are passed through as they are. A Decoder is not safe for concurrent use.
type Decoder struct {
	tok     Tokenizer
	prev    int32
	pending []byte
}

// NewDecoder returns a Decoder whose first token follows token prev (the
// last prompt token, or -1 at the start of a text).
func NewDecoder(tok Tokenizer, prev int32) *Decoder {
	return &Decoder{tok: tok, prev: prev}
}

// Add appends token id and returns the text completed by it (possibly "").
func (d *Decoder) Add(id int32) string {
	d.pending = append(d.pending, d.tok.Piece(d.prev, id)...)
	d.prev = id
	n := CompleteUTF8(d.pending)
	out := string(d.pending[:n])
	d.pending = d.pending[:copy(d.pending, d.pending[n:])]
	return out
}

// Flush returns the bytes still held back (an incomplete character at the
// end of the stream) and clears them.
func (d *Decoder) Flush() string {
	out := string(d.pending)
	d.pending = d.pending[:0]
	return out
}

// CompleteUTF8 returns the length of the longest prefix of b that does not
// end inside a UTF-8 character which later bytes could still complete.
func CompleteUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		c := b[i]
		if c&0xC0 == 0x80 {
			continue // continuation byte: look for its lead byte
		}
		if c >= 0xC0 && !utf8.FullRune(b[i:]) {
			return i
		}
		break
	}
	return len(b)
}
