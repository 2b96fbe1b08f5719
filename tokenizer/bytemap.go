package tokenizer

import "unicode/utf8"

// byteRuneLimit bounds the runes of the GPT-2 byte-to-unicode mapping
// (the 68 non-printable bytes map to U+0100..U+0143).
const byteRuneLimit = 256 + 68

// byteRunes is the GPT-2 byte-to-unicode mapping used by byte-level BPE
// vocabularies (GGUF "gpt2" and tokenizer.json ByteLevel): printable bytes
// map to themselves, the others to consecutive runes from U+0100 in byte order.
type byteRunes struct {
	toRune [256]rune
	toByte [byteRuneLimit]int16 // -1 where the rune is not in the mapping
}

// newByteRunes builds the GPT-2 byte-to-unicode tables.
func newByteRunes() *byteRunes {
	m := &byteRunes{}
	for i := range m.toByte {
		m.toByte[i] = -1
	}
	next := rune(256)
	for b := range 256 {
		r := rune(b)
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if !printable {
			r = next
			next++
		}
		m.toRune[b] = r
		m.toByte[r] = int16(b)
	}
	return m
}

// encode maps raw bytes to their GPT-2 unicode form.
func (m *byteRunes) encode(raw []byte) string {
	buf := make([]byte, 0, 2*len(raw))
	for _, b := range raw {
		buf = utf8.AppendRune(buf, m.toRune[b])
	}
	return string(buf)
}

// decode maps a GPT-2 unicode string back to raw bytes; ok is false when s
// holds a rune outside the mapping.
func (m *byteRunes) decode(s string) (raw []byte, ok bool) {
	raw = make([]byte, 0, len(s))
	for _, r := range s {
		if r < 0 || r >= byteRuneLimit || m.toByte[r] < 0 {
			return nil, false
		}
		raw = append(raw, byte(m.toByte[r]))
	}
	return raw, true
}
