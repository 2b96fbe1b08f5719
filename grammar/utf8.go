package grammar

import "unicode/utf8"

// runeRange matches the UTF-8 encoding of any rune lo..hi (surrogates
// excluded): an alternation of byte-range sequences, split so that each
// sequence's byte ranges combine freely.
func runeRange(lo, hi rune) *expr {
	var es []*expr
	utf8Ranges(lo, hi, func(seqLo, seqHi []byte) {
		parts := make([]*expr, len(seqLo))
		for i := range seqLo {
			parts[i] = exprSet(rangeSet(seqLo[i], seqHi[i]))
		}
		es = append(es, seq(parts...))
	})
	if len(es) == 1 {
		return es[0]
	}
	return alt(es...)
}

// utf8Ranges calls emit with the byte ranges of the encodings of lo..hi.
func utf8Ranges(lo, hi rune, emit func(lo, hi []byte)) {
	hi = min(hi, utf8.MaxRune)
	if lo > hi {
		return
	}
	// Leave out the surrogates, which have no UTF-8 encoding.
	if lo < 0xD800 && hi > 0xDFFF {
		utf8Ranges(lo, 0xD7FF, emit)
		utf8Ranges(0xE000, hi, emit)
		return
	}
	if lo >= 0xD800 && lo <= 0xDFFF {
		lo = 0xE000
	}
	if hi >= 0xD800 && hi <= 0xDFFF {
		hi = 0xD7FF
	}
	if lo > hi {
		return
	}
	// Split where the encoded length changes.
	for _, edge := range []rune{0x7F, 0x7FF, 0xFFFF} {
		if lo <= edge && hi > edge {
			utf8Ranges(lo, edge, emit)
			utf8Ranges(edge+1, hi, emit)
			return
		}
	}
	if hi < 0x80 {
		emit([]byte{byte(lo)}, []byte{byte(hi)})
		return
	}
	// Split until every continuation byte spans its whole range where a
	// higher byte varies.
	for i := 1; i < utf8.UTFMax; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				utf8Ranges(lo, lo|m, emit)
				utf8Ranges((lo|m)+1, hi, emit)
				return
			}
			if hi&m != m {
				utf8Ranges(lo, (hi&^m)-1, emit)
				utf8Ranges(hi&^m, hi, emit)
				return
			}
		}
	}
	a, b := utf8.AppendRune(nil, lo), utf8.AppendRune(nil, hi)
	emit(a, b)
}
