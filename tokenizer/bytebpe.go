package tokenizer

import (
	"fmt"
	"strings"
	"sync"
)

// byteBPE is byte-level BPE (Llama 3, GPT-2): the text is pre-split into
// pieces, and the bytes of each piece merge by rank, lowest first.
type byteBPE struct {
	*base
	split     splitter
	byRaw     map[string]int32 // raw bytes of mergeable tokens -> id
	byteToken [256]int32       // single-byte token of each byte, or -1
	// merges ranks the pairs of an explicit merge list; nil means a pair's
	// rank is the id of its concatenation (tiktoken).
	merges map[uint64]mergeRule
	// wholePiece: a piece that is itself a token is emitted as is, without
	// merging (tiktoken, and llama.cpp's "ignore_merges" for Llama 3).
	wholePiece bool
	mergers    sync.Pool // of *merger
}

// mergeRule is one entry of an explicit merge list.
type mergeRule struct {
	rank   int32
	result int32
}

// pairKey packs two token ids into a map key.
func pairKey(l, r int32) uint64 { return uint64(uint32(l))<<32 | uint64(uint32(r)) }

// newByteBPE builds a byte-level BPE tokenizer from a validated vocab.
func newByteBPE(v *Vocab, types []TokenType) (*byteBPE, error) {
	t := &byteBPE{byRaw: make(map[string]int32, len(v.Tokens))}
	switch v.Pre {
	case "", "llama3", "llama-bpe", "llama-v3", "smaug-bpe", "dbrx":
		t.split, t.wholePiece = splitLlama3, true
	case "gpt2", "gpt-2", "default":
		t.split = splitGPT2
	case "smollm":
		t.split = splitSmolLM
	default:
		return nil, fmt.Errorf("%w: pre-tokenizer %q", ErrUnsupported, v.Pre)
	}
	if v.Merges == nil {
		t.wholePiece = true
	}
	br := newByteRunes()
	t.base = newBase(v, types, func(text string) []byte {
		b, ok := br.decode(text)
		if !ok {
			return []byte(text)
		}
		return b
	})
	for i := range t.byteToken {
		t.byteToken[i] = -1
	}
	for id := range v.Tokens {
		switch types[id] {
		case TypeNormal, TypeUndefined, TypeByte:
			key := string(t.pieces[id])
			if _, dup := t.byRaw[key]; !dup {
				t.byRaw[key] = int32(id)
			}
			if len(key) == 1 && t.byteToken[key[0]] < 0 {
				t.byteToken[key[0]] = int32(id)
			}
		}
	}
	t.mergers.New = func() any { return new(merger) }
	if v.Merges != nil {
		t.merges = make(map[uint64]mergeRule, len(v.Merges))
		for rank, m := range v.Merges {
			left, right, ok := strings.Cut(m, " ")
			if !ok {
				return nil, fmt.Errorf("%w: merge %d %q has no space", ErrBadVocab, rank, m)
			}
			l, okl := t.byText[left]
			r, okr := t.byText[right]
			res, okm := t.byText[left+right]
			if !okl || !okr || !okm {
				continue // a merge of or into tokens the vocab lacks can never apply
			}
			k := pairKey(l, r)
			if _, dup := t.merges[k]; !dup {
				t.merges[k] = mergeRule{rank: int32(rank), result: res}
			}
		}
	}
	return t, nil
}

// Encode implements Tokenizer.
func (t *byteBPE) Encode(text string, opts EncodeOptions) []int32 {
	return t.encode(text, opts, t.encodeFragment)
}

// encodeFragment tokenizes text that holds no special tokens.
func (t *byteBPE) encodeFragment(out []int32, frag string, _ bool) []int32 {
	m := t.mergers.Get().(*merger)
	defer t.mergers.Put(m)
	for i := 0; i < len(frag); {
		end := t.split(frag, i)
		out = t.encodePiece(out, frag[i:end], m)
		i = end
	}
	return out
}

// encodePiece tokenizes one pre-tokenizer piece.
func (t *byteBPE) encodePiece(out []int32, piece string, m *merger) []int32 {
	if t.wholePiece {
		if id, ok := t.byRaw[piece]; ok {
			return append(out, id)
		}
	}
	m.reset()
	for i := 0; i < len(piece); i++ {
		m.add(i, i+1, t.byteToken[piece[i]])
	}
	m.run(piece, t)
	for i := int32(0); i >= 0; i = m.syms[i].next {
		switch s := m.syms[i]; {
		case s.id >= 0:
			out = append(out, s.id)
		case t.unk >= 0:
			out = append(out, t.unk) // a byte the vocab has no token for
		}
	}
	return out
}

// rankPair implements pairRanker.
func (t *byteBPE) rankPair(text string, l, r *symbol) (float32, int32, bool) {
	if t.merges == nil {
		id, ok := t.byRaw[text[l.start:r.end]]
		return float32(id), id, ok
	}
	if l.id < 0 || r.id < 0 {
		return 0, 0, false
	}
	rule, ok := t.merges[pairKey(l.id, r.id)]
	return float32(rule.rank), rule.result, ok
}
