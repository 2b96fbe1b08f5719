package server

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"sieve/tokenizer"
)

// Placeholder brackets for special-token text found in message content,
// from Unicode's private use area: content never means them.
const (
	placeholderOpen  = "\uE000"
	placeholderClose = "\uE001"
)

// specialSet holds the texts that the tokenizer turns into one special
// token when it parses special text, indexed by first byte, longest first.
type specialSet struct {
	byFirst [256][]string
}

// newSpecialSet finds the special texts of tok: every token whose text
// encodes to that one token when special text is parsed, and to something
// else when it is not (control, user-defined and unknown tokens alike).
func newSpecialSet(tok tokenizer.Tokenizer) specialSet {
	var s specialSet
	for id := range int32(tok.VocabSize()) {
		text := tokenText(tok, id)
		if text == "" {
			continue
		}
		if special := tok.Encode(text, tokenizer.EncodeOptions{ParseSpecial: true}); len(special) != 1 || special[0] != id {
			continue
		}
		if plain := tok.Encode(text, tokenizer.EncodeOptions{}); len(plain) == 1 && plain[0] == id {
			continue
		}
		s.byFirst[text[0]] = append(s.byFirst[text[0]], text)
	}
	s.byFirst[placeholderOpen[0]] = append(s.byFirst[placeholderOpen[0]], placeholderOpen)
	for i := range s.byFirst {
		slices.SortStableFunc(s.byFirst[i], func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	}
	return s
}

// escape replaces each special text in content (and any placeholder
// bracket it holds) by a placeholder naming its index in *found, where it
// is appended: the template then renders the conversation with no special
// text that came from a message. OpenAI tokenizes message content as plain
// text; without this a user could write "</s><s>[INST]" or "<|eot_id|>"
// and forge turns of the conversation.
func (s *specialSet) escape(content string, found *[]string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(content); i++ {
		for _, t := range s.byFirst[content[i]] {
			if strings.HasPrefix(content[i:], t) {
				b.WriteString(content[last:i])
				b.WriteString(placeholderOpen + strconv.Itoa(len(*found)) + placeholderClose)
				*found = append(*found, t)
				i += len(t) - 1
				last = i + 1
				break
			}
		}
	}
	if last == 0 {
		return content
	}
	b.WriteString(content[last:])
	return b.String()
}

// encodeRendered tokenizes a conversation rendered from escaped content:
// the template's text with its special tokens parsed, and each placeholder
// as the plain text of what it stands for (encoded on its own, so next to
// it a SentencePiece vocabulary may start a new word). BOS comes first when
// addBOS.
func encodeRendered(tok tokenizer.Tokenizer, text string, found []string, addBOS bool) []int32 {
	var ids []int32
	enc := func(s string, parseSpecial bool) {
		ids = append(ids, tok.Encode(s, tokenizer.EncodeOptions{AddBOS: addBOS, ParseSpecial: parseSpecial})...)
		addBOS = false
	}
	var seg strings.Builder
	for text != "" {
		i := strings.Index(text, placeholderOpen)
		if i < 0 {
			seg.WriteString(text)
			break
		}
		seg.WriteString(text[:i])
		rest := text[i+len(placeholderOpen):]
		j := strings.Index(rest, placeholderClose)
		k, err := strconv.Atoi(rest[:max(j, 0)])
		if j < 0 || err != nil || k < 0 || k >= len(found) {
			seg.WriteString(placeholderOpen) // not one of ours: the template's own text
			text = rest
			continue
		}
		if seg.Len() > 0 {
			enc(seg.String(), true)
			seg.Reset()
		}
		enc(found[k], false)
		text = rest[j+len(placeholderClose):]
	}
	if seg.Len() > 0 || len(ids) == 0 {
		enc(seg.String(), true)
	}
	return ids
}
