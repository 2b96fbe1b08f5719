// Package grammar is Sieve's constrained decoding: it compiles a JSON
// Schema, a regular expression or a list of choices into a byte-level
// pushdown automaton, and turns the automaton's state into the set of
// vocabulary tokens that may come next, walking a trie of the vocabulary's
// token bytes and caching the masks of states that repeat.
package grammar

import "errors"

// Errors the compilers return; callers (the HTTP server) branch on them.
var (
	// ErrUnsupported: the schema or pattern uses a feature outside the supported subset.
	ErrUnsupported = errors.New("grammar: unsupported")
	// ErrInvalid: the schema or pattern is malformed.
	ErrInvalid = errors.New("grammar: invalid")
	// ErrUnsatisfiable: no output can match.
	ErrUnsatisfiable = errors.New("grammar: no output can match")
	// ErrTooLarge: the compiled grammar would exceed its size limits.
	ErrTooLarge = errors.New("grammar: too large")
	// ErrRejected: a token was accepted that the grammar does not allow.
	ErrRejected = errors.New("grammar: token not allowed")
)

// elemKind is what one element of a rule's alternative does.
type elemKind uint8

const (
	kindSet elemKind = iota // consume one byte of a set
	kindRef                 // expand a rule, then go on
	kindEnd                 // the end of an alternative: return to the caller
)

// elem is one element of the flattened grammar.
type elem struct {
	kind elemKind
	arg  int32 // set index (kindSet) or rule index (kindRef)
}

// Grammar is a compiled byte-level context-free grammar: every rule is a
// list of alternatives, each a sequence of byte sets and rule references
// laid out in one array and ended by kindEnd. It is immutable and safe for
// concurrent use.
type Grammar struct {
	elems []elem
	rules [][]int32 // the start position of each alternative, by rule
	sets  []byteSet
	root  int32
	// classes holds, for each class of bytes that every set either holds
	// all of or none of, its bytes: a step on any byte of a class goes to
	// the same state. classOf maps a byte to its class.
	classes [][]byte
	classOf [256]uint8
}

// classify partitions the bytes into classes by the sets that hold them.
func (g *Grammar) classify() {
	index := map[string]uint8{}
	sig := make([]byte, (len(g.sets)+7)/8)
	for c := range 256 {
		clear(sig)
		for i := range g.sets {
			if g.sets[i].has(byte(c)) {
				sig[i>>3] |= 1 << (i & 7)
			}
		}
		k, ok := index[string(sig)]
		if !ok {
			k = uint8(len(g.classes))
			index[string(sig)] = k
			g.classes = append(g.classes, nil)
		}
		g.classes[k] = append(g.classes[k], byte(c))
		g.classOf[c] = k
	}
}

// Size is the number of elements of the grammar, a measure of its memory.
func (g *Grammar) Size() int { return len(g.elems) }

// byteSet is a set of bytes.
type byteSet [4]uint64

// add puts the bytes lo..hi into s.
func (s *byteSet) add(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s[c>>6] |= 1 << (c & 63)
	}
}

// has reports whether b is in s.
func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }

// empty reports whether s has no byte.
func (s *byteSet) empty() bool { return s[0]|s[1]|s[2]|s[3] == 0 }

// union adds the bytes of o to s.
func (s *byteSet) union(o *byteSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

// setOf returns the set of the given bytes.
func setOf(bs ...byte) byteSet {
	var s byteSet
	for _, b := range bs {
		s.add(b, b)
	}
	return s
}

// rangeSet returns the set of bytes lo..hi.
func rangeSet(lo, hi byte) byteSet {
	var s byteSet
	s.add(lo, hi)
	return s
}
