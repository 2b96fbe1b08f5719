package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// splitter returns the end of the pre-tokenizer piece that starts at byte
// offset i of s (i < len(s)); the pieces tile the text.
type splitter func(s string, i int) int

// The classes the split patterns use: \p{L}, \p{N} and \s (Unicode White_Space).
func isLetter(r rune) bool { return unicode.IsLetter(r) }
func isNumber(r rune) bool { return unicode.IsNumber(r) }
func isSpace(r rune) bool  { return unicode.IsSpace(r) }

// isOther reports [^\s\p{L}\p{N}].
func isOther(r rune) bool { return !isSpace(r) && !isLetter(r) && !isNumber(r) }

// skip advances from i over runes satisfying class, at most limit of them
// (limit < 0: no limit), and returns the new offset.
func skip(s string, i int, class func(rune) bool, limit int) int {
	for i < len(s) && limit != 0 {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !class(r) {
			break
		}
		i += w
		limit--
	}
	return i
}

// contraction returns the length of the contraction suffix ('s 't 're 've 'm
// 'll 'd without the apostrophe) at the start of s, or 0. With fold, letters
// match case-insensitively under Unicode simple case folding.
func contraction(s string, fold bool) int {
	match := func(i int, want rune) (int, bool) {
		if i >= len(s) {
			return 0, false
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == want {
			return w, true
		}
		if !fold {
			return 0, false
		}
		for f := unicode.SimpleFold(want); f != want; f = unicode.SimpleFold(f) {
			if r == f {
				return w, true
			}
		}
		return 0, false
	}
	for _, suffix := range [...]string{"s", "t", "re", "ve", "m", "ll", "d"} {
		n := 0
		ok := true
		for _, want := range suffix {
			w, found := match(n, want)
			if !found {
				ok = false
				break
			}
			n += w
		}
		if ok {
			return n
		}
	}
	return 0
}

// splitLlama3 is the Llama 3 pre-tokenizer, equal in its splits to the pattern
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// matched leftmost-first, alternative by alternative, as a backtracking regex engine does.
func splitLlama3(s string, i int) int {
	r, w := utf8.DecodeRuneInString(s[i:])
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r == '\'' {
		if n := contraction(s[i+w:], true); n > 0 {
			return i + w + n
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	j := i
	if r != '\r' && r != '\n' && !isLetter(r) && !isNumber(r) {
		j = i + w
	}
	if end := skip(s, j, isLetter, -1); end > j {
		return end
	}
	// \p{N}{1,3}
	if isNumber(r) {
		return skip(s, i, isNumber, 3)
	}
	// ?[^\s\p{L}\p{N}]+[\r\n]*
	j = i
	if r == ' ' {
		j = i + w
	}
	if end := skip(s, j, isOther, -1); end > j {
		return skip(s, end, isNewline, -1)
	}
	return splitSpace(s, i, true)
}

// isNewline reports [\r\n].
func isNewline(r rune) bool { return r == '\r' || r == '\n' }

// splitSpace handles the whitespace alternatives at s[i], which is
// whitespace: \s*[\r\n]+ (when newlines is set), then \s+(?!\S), then \s+.
func splitSpace(s string, i int, newlines bool) int {
	end := i
	lastNewline := -1
	lastWidth := 0
	runes := 0
	for end < len(s) {
		r, w := utf8.DecodeRuneInString(s[end:])
		if !isSpace(r) {
			break
		}
		if isNewline(r) {
			lastNewline = end
		}
		end += w
		lastWidth = w
		runes++
	}
	switch {
	case newlines && lastNewline >= 0:
		return lastNewline + 1 // \s* backs off to the last newline of the run
	case end == len(s) || runes == 1:
		return end // \s+(?!\S) at the end of the text, or \s+ for one rune
	default:
		return end - lastWidth // \s+(?!\S): leave the last space for the next word
	}
}

// splitGPT2 is the GPT-2 pre-tokenizer, equal in its splits to the pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(s string, i int) int {
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == '\'' {
		if n := contraction(s[i+w:], false); n > 0 {
			return i + w + n
		}
	}
	j := i
	if r == ' ' {
		j = i + w
	}
	for _, class := range [...]func(rune) bool{isLetter, isNumber, isOther} {
		if end := skip(s, j, class, -1); end > j {
			return end
		}
	}
	return splitSpace(s, i, false)
}

// splitSmolLM is the SmolLM pre-tokenizer (GGUF pre "smollm"; a tokenizer.json
// Digits pre-tokenizer with individual_digits before ByteLevel): every
// number character is a piece of its own, and the text between them is
// split by the GPT-2 pattern as if each stretch were the whole text.
func splitSmolLM(s string, i int) int {
	r, w := utf8.DecodeRuneInString(s[i:])
	if isNumber(r) {
		return i + w
	}
	end := splitGPT2(s, i)
	// A GPT-2 piece holds a number only as " 123": the stretch ends
	// before the digit.
	for p := i; p < end; {
		r, w := utf8.DecodeRuneInString(s[p:])
		if isNumber(r) {
			end = p
			break
		}
		p += w
	}
	if last, _ := utf8.DecodeLastRuneInString(s[i:end]); !isSpace(last) {
		return end
	}
	// A whitespace piece: a run that reaches a number ends its stretch,
	// where \s+(?!\S) takes all of it.
	k := end
	for k < len(s) {
		r, w := utf8.DecodeRuneInString(s[k:])
		if !isSpace(r) {
			if isNumber(r) {
				return k
			}
			break
		}
		k += w
	}
	return end
}
