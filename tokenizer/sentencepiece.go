package tokenizer

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// sentencePiece is SentencePiece BPE (Llama 2): spaces become "▁", then the
// adjacent pair whose concatenation is the highest-scoring token merges
// first, and characters left without a token fall back to byte tokens.
type sentencePiece struct {
	*base
	scores         []float32
	mergeable      map[string]int32 // normal tokens, which merges may produce
	byteToken      [256]int32       // "<0xAB>" token of each byte, or -1
	addSpacePrefix bool
	mergers        sync.Pool // of *merger
}

// newSentencePiece builds a SentencePiece tokenizer from a validated vocab.
func newSentencePiece(v *Vocab, types []TokenType) *sentencePiece {
	t := &sentencePiece{
		base:           newBase(v, types, sentencePieceTokenBytes),
		scores:         v.Scores,
		mergeable:      make(map[string]int32, len(v.Tokens)),
		addSpacePrefix: v.AddSpacePrefix,
	}
	t.mergers.New = func() any { return new(merger) }
	for i := range t.byteToken {
		t.byteToken[i] = -1
	}
	for id, text := range v.Tokens {
		switch types[id] {
		case TypeNormal, TypeUndefined:
			if _, dup := t.mergeable[text]; !dup {
				t.mergeable[text] = int32(id)
			}
		case TypeByte:
			if b, ok := parseByteToken(text); ok && t.byteToken[b] < 0 {
				t.byteToken[b] = int32(id)
			}
		}
	}
	return t
}

// sentencePieceTokenBytes decodes a normal or byte piece.
func sentencePieceTokenBytes(text string) []byte {
	if b, ok := parseByteToken(text); ok {
		return []byte{b}
	}
	return sentencePieceText(text)
}

// Encode implements Tokenizer.
func (t *sentencePiece) Encode(text string, opts EncodeOptions) []int32 {
	return t.encode(text, opts, t.encodeFragment)
}

// encodeFragment tokenizes text that holds no special tokens. Like
// llama.cpp, the dummy "▁" prefix goes before a fragment at the start of the
// text or right after a special token.
func (t *sentencePiece) encodeFragment(out []int32, frag string, afterSpecial bool) []int32 {
	escaped := strings.ReplaceAll(frag, " ", "▁")
	if t.addSpacePrefix && afterSpecial {
		escaped = "▁" + escaped
	}
	m := t.mergers.Get().(*merger)
	defer t.mergers.Put(m)
	m.reset()
	for i := 0; i < len(escaped); {
		_, w := utf8.DecodeRuneInString(escaped[i:])
		id, ok := t.mergeable[escaped[i:i+w]]
		if !ok {
			id = -1
		}
		m.add(i, i+w, id)
		i += w
	}
	m.run(escaped, t)
	prevUnk := false
	for i := int32(0); i >= 0; i = m.syms[i].next {
		s := m.syms[i]
		if s.id >= 0 {
			out = append(out, s.id)
			prevUnk = false
			continue
		}
		n := len(out)
		out = t.fallback(out, escaped[s.start:s.end])
		// Like SentencePiece, a run of unknown characters is one UNK.
		isUnk := len(out) == n+1 && out[n] == t.unk && t.unk >= 0
		if isUnk && prevUnk {
			out = out[:n]
		}
		prevUnk = isUnk
	}
	return out
}

// fallback encodes a character that has no token: as its byte tokens, or as
// the unknown token when the vocab lacks byte tokens.
func (t *sentencePiece) fallback(out []int32, char string) []int32 {
	for i := 0; i < len(char); i++ {
		if t.byteToken[char[i]] < 0 {
			if t.unk >= 0 {
				out = append(out, t.unk)
			}
			return out
		}
	}
	for i := 0; i < len(char); i++ {
		out = append(out, t.byteToken[char[i]])
	}
	return out
}

// rankPair implements pairRanker: a pair merges when its concatenation is a
// normal token, higher scores first.
func (t *sentencePiece) rankPair(text string, l, r *symbol) (float32, int32, bool) {
	id, ok := t.mergeable[text[l.start:r.end]]
	if !ok {
		return 0, 0, false
	}
	return -t.scores[id], id, true
}
