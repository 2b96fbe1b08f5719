package grammar

import (
	"bytes"
	"slices"

	"sieve/tokenizer"
)

// Vocabulary is a tokenizer's tokens arranged for mask computation: a trie
// of every token's bytes, built once per tokenizer. It is immutable and
// safe for concurrent use.
type Vocabulary struct {
	tok  tokenizer.Tokenizer
	size int
	stop []int32
	bos  int32
	// The trie: node n's children are childByte/childNode[childStart[n]:
	// childStart[n+1]], sorted by byte, and the tokens whose bytes end at
	// n are tokIDs[tokStart[n]:tokStart[n+1]]. Node 0 is the root.
	childStart []int32
	childByte  []byte
	childNode  []int32
	tokStart   []int32
	tokIDs     []int32
	// startDiffers lists the tokens whose bytes differ at the start of a
	// text (SentencePiece drops the leading space of the first piece).
	startDiffers []int32
	maxLen       int
}

// NewVocabulary builds the trie of tok's tokens. Tokens without bytes
// (control tokens) are never allowed, except the stop tokens once the
// output is complete.
func NewVocabulary(tok tokenizer.Tokenizer) *Vocabulary {
	n := tok.VocabSize()
	v := &Vocabulary{tok: tok, size: n, stop: slices.Clone(tok.StopTokens()), bos: tok.BOS()}
	// prev: any token that is neither absent nor BOS, so that Piece gives
	// the bytes a token has in the middle of a text.
	prev := int32(0)
	if prev == v.bos {
		prev = 1
	}
	type tnode struct {
		kids map[byte]int32
		toks []int32
	}
	nodes := []tnode{{}}
	for id := range int32(n) {
		if slices.Contains(v.stop, id) {
			continue
		}
		p := tok.Piece(prev, id)
		if len(p) == 0 {
			continue
		}
		if !bytes.Equal(p, tok.Piece(-1, id)) {
			v.startDiffers = append(v.startDiffers, id)
		}
		v.maxLen = max(v.maxLen, len(p))
		cur := int32(0)
		for _, c := range p {
			k, ok := nodes[cur].kids[c]
			if !ok {
				k = int32(len(nodes))
				nodes = append(nodes, tnode{})
				if nodes[cur].kids == nil {
					nodes[cur].kids = map[byte]int32{}
				}
				nodes[cur].kids[c] = k
			}
			cur = k
		}
		nodes[cur].toks = append(nodes[cur].toks, id)
	}
	// Number the nodes in depth-first order, children by byte, so that a
	// walk reads the arrays nearly in order.
	order := make([]int32, 0, len(nodes)) // new id -> old id
	newID := make([]int32, len(nodes))
	var number func(old int32)
	number = func(old int32) {
		newID[old] = int32(len(order))
		order = append(order, old)
		keys := make([]byte, 0, len(nodes[old].kids))
		for c := range nodes[old].kids {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		for _, c := range keys {
			number(nodes[old].kids[c])
		}
	}
	number(0)
	v.childStart = make([]int32, len(nodes)+1)
	v.tokStart = make([]int32, len(nodes)+1)
	for i, old := range order {
		nd := nodes[old]
		keys := make([]byte, 0, len(nd.kids))
		for c := range nd.kids {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		for _, c := range keys {
			v.childByte = append(v.childByte, c)
			v.childNode = append(v.childNode, newID[nd.kids[c]])
		}
		v.childStart[i+1] = int32(len(v.childByte))
		v.tokIDs = append(v.tokIDs, nd.toks...)
		v.tokStart[i+1] = int32(len(v.tokIDs))
	}
	return v
}

// Size is the number of token ids of the vocabulary.
func (v *Vocabulary) Size() int { return v.size }

// Nodes is the number of nodes of the trie.
func (v *Vocabulary) Nodes() int { return len(v.childStart) - 1 }

// piece is the bytes of token id after prev.
func (v *Vocabulary) piece(prev, id int32) []byte { return v.tok.Piece(prev, id) }

// atStart reports whether a token after prev is the first of a text, where
// pieces may differ from the trie's.
func (v *Vocabulary) atStart(prev int32) bool { return prev < 0 || prev == v.bos }
