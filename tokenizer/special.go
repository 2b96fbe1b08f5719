package tokenizer

import (
	"cmp"
	"slices"
	"strings"
)

// specialMatcher finds special-token text (control, user-defined and unknown
// tokens) inside a text, for EncodeOptions.ParseSpecial.
type specialMatcher struct {
	byFirst [256][]int32 // candidate ids by first byte of their text, longest first
	text    []string     // token text by id
}

// isSpecialType reports whether tokens of type t are matched by their exact
// text under ParseSpecial rather than produced by splitting text.
func isSpecialType(t TokenType) bool {
	return t == TypeControl || t == TypeUserDefined || t == TypeUnknown
}

// newSpecialMatcher indexes the special tokens among tokens.
func newSpecialMatcher(tokens []string, types []TokenType) *specialMatcher {
	m := &specialMatcher{text: tokens}
	for id, t := range types {
		if isSpecialType(t) && tokens[id] != "" {
			b := tokens[id][0]
			m.byFirst[b] = append(m.byFirst[b], int32(id))
		}
	}
	for b := range m.byFirst {
		slices.SortStableFunc(m.byFirst[b], func(x, y int32) int { return cmp.Compare(len(tokens[y]), len(tokens[x])) })
	}
	return m
}

// find returns the byte offset, id and length of the first special token in
// s (the longest one at that offset), or pos -1.
func (m *specialMatcher) find(s string) (pos int, id int32, n int) {
	for i := 0; i < len(s); i++ {
		for _, cand := range m.byFirst[s[i]] {
			if t := m.text[cand]; strings.HasPrefix(s[i:], t) {
				return i, cand, len(t)
			}
		}
	}
	return -1, -1, 0
}

// encodeFragments splits text into raw fragments and special tokens (only
// when parseSpecial), appending special ids to out and passing each
// non-empty raw fragment to raw together with whether a special token (or
// the start of the text) comes right before it.
func (m *specialMatcher) encodeFragments(out []int32, text string, parseSpecial bool, raw func(out []int32, frag string, afterSpecial bool) []int32) []int32 {
	afterSpecial := true
	for len(text) > 0 {
		pos, id, n := -1, int32(-1), 0
		if parseSpecial {
			pos, id, n = m.find(text)
		}
		frag := text
		if pos >= 0 {
			frag = text[:pos]
		}
		if frag != "" {
			out = raw(out, frag, afterSpecial)
			afterSpecial = false
		}
		if pos < 0 {
			break
		}
		out = append(out, id)
		afterSpecial = true
		text = text[pos+n:]
	}
	return out
}
