package tokenizer

import "strings"

// unknownSurface is how SentencePiece renders the unknown token when decoding.
const unknownSurface = " \u2047 "

// base holds what both tokenizer kinds share: token texts and types, the
// decoded bytes of every token, and the special ids. It is read-only after
// construction and so safe for concurrent use.
type base struct {
	tokens   []string
	types    []TokenType
	pieces   [][]byte // decoded bytes by id; capacity-limited views into one buffer
	byText   map[string]int32
	specials *specialMatcher
	bos, eos int32
	unk      int32
	stop     []int32
	addBOS   bool
	// stripStartSpace drops the leading space of a normal piece at the start
	// of the text or after BOS (SentencePiece with a dummy space prefix).
	stripStartSpace bool
}

// newBase fills the shared part from a validated vocab; decode gives the
// bytes of a normal token's text.
func newBase(v *Vocab, types []TokenType, decode func(text string) []byte) *base {
	b := &base{
		tokens:          v.Tokens,
		types:           types,
		byText:          make(map[string]int32, len(v.Tokens)),
		bos:             v.BOS,
		eos:             v.EOS,
		unk:             v.UNK,
		addBOS:          v.AddBOS,
		stripStartSpace: v.Kind == SentencePiece && v.AddSpacePrefix,
	}
	for id, t := range v.Tokens {
		if _, dup := b.byText[t]; !dup {
			b.byText[t] = int32(id)
		}
	}
	b.specials = newSpecialMatcher(v.Tokens, types)
	b.pieces = make([][]byte, len(v.Tokens))
	var buf []byte
	offsets := make([]int, len(v.Tokens)+1)
	for id, text := range v.Tokens {
		switch types[id] {
		case TypeControl:
		case TypeUserDefined:
			buf = append(buf, text...)
		case TypeUnknown:
			if v.Kind == SentencePiece {
				buf = append(buf, unknownSurface...)
			} else {
				buf = append(buf, text...)
			}
		default:
			buf = append(buf, decode(text)...)
		}
		offsets[id+1] = len(buf)
	}
	for id := range b.pieces {
		lo, hi := offsets[id], offsets[id+1]
		b.pieces[id] = buf[lo:hi:hi]
	}
	b.stop = stopTokens(v, b.byText, types)
	return b
}

// stopTokens lists EOS, the vocab's end-of-turn ids and the well-known
// end-of-turn control tokens, without duplicates.
func stopTokens(v *Vocab, byText map[string]int32, types []TokenType) []int32 {
	var stop []int32
	add := func(id int32) {
		if id < 0 {
			return
		}
		for _, s := range stop {
			if s == id {
				return
			}
		}
		stop = append(stop, id)
	}
	add(v.EOS)
	for _, id := range v.EOT {
		add(id)
	}
	for _, name := range [...]string{"<|eot_id|>", "<|eom_id|>"} {
		if id, ok := byText[name]; ok && types[id] == TypeControl {
			add(id)
		}
	}
	return stop
}

// sentencePieceText turns a SentencePiece piece into text ("▁" is a space).
func sentencePieceText(text string) []byte {
	return []byte(strings.ReplaceAll(text, "▁", " "))
}

// Piece implements Tokenizer.
func (b *base) Piece(prev, id int32) []byte {
	if id < 0 || int(id) >= len(b.pieces) {
		return nil
	}
	p := b.pieces[id]
	if b.stripStartSpace && (prev < 0 || prev == b.bos) && len(p) > 0 && p[0] == ' ' &&
		(b.types[id] == TypeNormal || b.types[id] == TypeUndefined || b.types[id] == TypeUserDefined) {
		p = p[1:]
	}
	return p
}

// Decode implements Tokenizer.
func (b *base) Decode(ids []int32) string {
	var sb strings.Builder
	prev := int32(-1)
	for _, id := range ids {
		sb.Write(b.Piece(prev, id))
		prev = id
	}
	return sb.String()
}

// VocabSize implements Tokenizer.
func (b *base) VocabSize() int { return len(b.tokens) }

// BOS implements Tokenizer.
func (b *base) BOS() int32 { return b.bos }

// EOS implements Tokenizer.
func (b *base) EOS() int32 { return b.eos }

// StopTokens implements Tokenizer; the caller must not modify the result.
func (b *base) StopTokens() []int32 { return b.stop }

// TokenID implements Tokenizer.
func (b *base) TokenID(piece string) (int32, bool) {
	id, ok := b.byText[piece]
	return id, ok
}

// IsControl implements Tokenizer: true for tokens of type TypeControl.
func (b *base) IsControl(id int32) bool {
	return id >= 0 && int(id) < len(b.types) && b.types[id] == TypeControl
}

// encode wraps the kind-specific encoding of text with BOS, EOS and the
// special-token split.
func (b *base) encode(text string, opts EncodeOptions, raw func(out []int32, frag string, afterSpecial bool) []int32) []int32 {
	out := make([]int32, 0, len(text)/3+2)
	if opts.AddBOS && b.bos >= 0 {
		out = append(out, b.bos)
	}
	out = b.specials.encodeFragments(out, text, opts.ParseSpecial, raw)
	if opts.AddEOS && b.eos >= 0 {
		out = append(out, b.eos)
	}
	return out
}

// AddBOS reports whether the vocabulary expects BOS at the start of a prompt.
func (b *base) AddBOS() bool { return b.addBOS }

// TokenText returns the stored text of token id (e.g. "<|eot_id|>", or
// "▁Hello" for a SentencePiece piece), or "" for an unknown id.
func (b *base) TokenText(id int32) string {
	if id < 0 || int(id) >= len(b.tokens) {
		return ""
	}
	return b.tokens[id]
}
