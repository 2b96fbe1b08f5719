package grammar

import (
	"math"
	"slices"
	"sync"
)

// DefaultMaskCacheBytes bounds the masks one Compiled keeps.
const DefaultMaskCacheBytes = 4 << 20

// Compiled is a Grammar bound to a Vocabulary: it computes the mask of
// allowed tokens of a state by walking the vocabulary trie through the
// grammar's memoized transitions, and keeps the mask with the state, so
// that states which repeat (inside a string, from one request to the
// next) cost a map lookup. It is safe for concurrent use; each request
// takes its own Matcher from it.
type Compiled struct {
	g    *Grammar
	v    *Vocabulary
	init state

	mu        sync.Mutex
	d         dfa
	maskBytes int
	maxBytes  int
}

// Bind binds g to the vocabulary v.
func Bind(g *Grammar, v *Vocabulary) *Compiled {
	return &Compiled{g: g, v: v, init: g.start(), d: dfa{byKey: map[string]int32{}, budget: -1}, maxBytes: DefaultMaskCacheBytes}
}

// NewMatcher returns a matcher at the start of the grammar.
func (c *Compiled) NewMatcher() *Matcher { return &Matcher{c: c, st: c.init} }

// idOf returns the interned id of m's state, reusing the one m keeps
// while the table has not been reset since. The caller holds c.mu.
func (c *Compiled) idOf(m *Matcher) int32 {
	if m.gen != c.d.gen+1 {
		m.id, m.gen = c.d.intern(c.g, m.st), c.d.gen+1
	}
	return m.id
}

// follow advances m past the bytes p through the memoized transitions,
// and reports false, leaving m where it was, if the grammar refuses them.
func (c *Compiled) follow(m *Matcher, p []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.idOf(m)
	for _, b := range p {
		if id = c.d.step(c.g, id, b); id == transDead {
			return false
		}
	}
	m.st, m.id = c.d.states[id].st, id
	return true
}

// mask returns the allowed tokens of m's state as a bitset over the
// vocabulary (stop tokens included when the state is complete). The result
// is shared: the caller must not modify it.
func (c *Compiled) mask(m *Matcher) []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.d.states) > maxDFAStates {
		c.d.reset()
		c.maskBytes = 0
	}
	id := c.idOf(m)
	ds := c.d.states[id]
	if ds.mask != nil {
		return ds.mask
	}
	bits := make([]uint64, (c.v.size+63)/64)
	c.d.budget = maxWalkSteps
	c.walk(0, id, bits)
	narrowed := c.d.budget == 0
	c.d.budget = -1
	if ds.st.accept {
		for _, t := range c.v.stop {
			if t >= 0 && int(t) < c.v.size {
				bits[t>>6] |= 1 << (t & 63)
			}
		}
	}
	if narrowed {
		return bits // not kept: the next step walks on from the transitions kept
	}
	if c.maskBytes+8*len(bits) > c.maxBytes {
		for _, s := range c.d.states {
			s.mask = nil
		}
		c.maskBytes = 0
	}
	ds.mask = bits
	c.maskBytes += 8 * len(bits)
	return bits
}

// walk visits the children of trie node n from state id, marking in bits
// every token whose bytes keep the input valid. The caller holds c.mu.
func (c *Compiled) walk(n int32, id int32, bits []uint64) {
	v := c.v
	tbl := c.d.table(id)
	for e := v.childStart[n]; e < v.childStart[n+1]; e++ {
		b := v.childByte[e]
		next := tbl[b]
		if next == transDead {
			continue
		}
		if next == transUnknown {
			if next = c.d.step(c.g, id, b); next == transDead {
				continue
			}
		}
		child := v.childNode[e]
		for _, t := range v.tokIDs[v.tokStart[child]:v.tokStart[child+1]] {
			bits[t>>6] |= 1 << (t & 63)
		}
		if v.childStart[child] < v.childStart[child+1] && c.d.live[next] {
			c.walk(child, next, bits)
		}
	}
}

// recheck sets in bits, for each of ids, whether the bytes the token has
// after prev may follow st (the first token of a text, whose bytes differ
// from the trie's), stepping through the memoized transitions.
func (c *Compiled) recheck(st *state, prev int32, ids []int32, bits []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := c.d.intern(c.g, *st)
	for _, id := range ids {
		p := c.v.piece(prev, id)
		cur := start
		for i := 0; i < len(p) && cur != transDead; i++ {
			cur = c.d.step(c.g, cur, p[i])
		}
		if len(p) > 0 && cur != transDead {
			bits[id>>6] |= 1 << (id & 63)
		} else {
			bits[id>>6] &^= 1 << (id & 63)
		}
	}
}

// Matcher is one request's position in a grammar. It implements the
// engine's Constraint. A Matcher is not safe for concurrent use.
type Matcher struct {
	c  *Compiled
	st state
	// id is st's interned id in c's table of generation gen-1 (gen 0:
	// none yet).
	id  int32
	gen uint64
}

// Mask sets the logits of the tokens that may not follow prev to -Inf
// (ids beyond the vocabulary included), and reports whether any token is
// left.
func (m *Matcher) Mask(prev int32, logits []float32) bool {
	bits := m.c.mask(m)
	if v := m.c.v; v.atStart(prev) && len(v.startDiffers) > 0 && len(m.st.stacks) > 0 {
		bits = slices.Clone(bits)
		m.c.recheck(&m.st, prev, v.startDiffers, bits)
	}
	allowed := false
	inf := float32(math.Inf(-1))
	n := min(len(logits), m.c.v.size)
	for w := 0; w < n; w += 64 {
		word := bits[w>>6]
		if word == ^uint64(0) && w+64 <= n {
			allowed = true
			continue
		}
		if word != 0 {
			allowed = true
		}
		for i := w; i < min(w+64, n); i++ {
			if word&(1<<(i&63)) == 0 {
				logits[i] = inf
			}
		}
	}
	for i := n; i < len(logits); i++ {
		logits[i] = inf
	}
	return allowed
}

// Accept advances past token tok, which followed prev. done reports that
// the output is complete and nothing may follow but a stop token. A token
// the grammar does not allow is ErrRejected, and the matcher stays where
// it was.
func (m *Matcher) Accept(prev, tok int32) (done bool, err error) {
	v := m.c.v
	if slices.Contains(v.stop, tok) {
		if !m.st.accept {
			return false, ErrRejected
		}
		m.st, m.gen = state{accept: true}, 0
		return true, nil
	}
	p := v.piece(prev, tok)
	if len(p) == 0 || !m.c.follow(m, p) {
		return false, ErrRejected
	}
	return len(m.st.stacks) == 0, nil
}

// Complete reports whether the output so far is a whole match.
func (m *Matcher) Complete() bool { return m.st.accept }

// AcceptString advances past the bytes of s, as if generated; it reports
// false, leaving the matcher where it was, if the grammar does not allow them.
func (m *Matcher) AcceptString(s string) bool {
	cur := m.st
	for i := range len(s) {
		cur = m.c.g.advance(&cur, s[i])
		if cur.dead() {
			return false
		}
	}
	m.st, m.gen = cur, 0
	return true
}
