package grammar

import (
	"math"
	"slices"
	"sync"
)

// DefaultMaskCacheBytes bounds the masks one Compiled keeps.
const DefaultMaskCacheBytes = 4 << 20

// Compiled is a Grammar bound to a Vocabulary: it computes the mask of
// allowed tokens for a state and caches it by the state's key, so that
// states which repeat (inside a string, from one request to the next) cost
// a map lookup. It is safe for concurrent use; each request takes its own
// Matcher from it.
type Compiled struct {
	g      *Grammar
	v      *Vocabulary
	init   state
	walker sync.Pool

	mu         sync.Mutex
	cache      map[string][]uint64
	cacheBytes int
	maxBytes   int
}

// Bind binds g to the vocabulary v.
func Bind(g *Grammar, v *Vocabulary) *Compiled {
	c := &Compiled{g: g, v: v, init: g.start(), cache: map[string][]uint64{}, maxBytes: DefaultMaskCacheBytes}
	c.walker.New = func() any { return &walker{c: c, levels: make([]state, v.maxLen+1)} }
	return c
}

// NewMatcher returns a matcher at the start of the grammar.
func (c *Compiled) NewMatcher() *Matcher { return &Matcher{c: c, st: c.init} }

// mask returns the allowed tokens of st as a bitset over the vocabulary
// (stop tokens included when st is complete). The result is shared: the
// caller must not modify it.
func (c *Compiled) mask(st *state) []uint64 {
	w := c.walker.Get().(*walker)
	defer c.walker.Put(w)
	w.key = st.key(w.key[:0])
	c.mu.Lock()
	m, ok := c.cache[string(w.key)]
	c.mu.Unlock()
	if ok {
		return m
	}
	m = make([]uint64, (c.v.size+63)/64)
	w.bits = m
	w.walk(0, st, 0)
	if st.accept {
		for _, id := range c.v.stop {
			if id >= 0 && int(id) < c.v.size {
				m[id>>6] |= 1 << (id & 63)
			}
		}
	}
	c.mu.Lock()
	if c.cacheBytes+8*len(m) > c.maxBytes {
		clear(c.cache)
		c.cacheBytes = 0
	}
	c.cache[string(w.key)] = m
	c.cacheBytes += 8*len(m) + len(w.key)
	c.mu.Unlock()
	return m
}

// feasible reports whether the bytes p may follow st.
func (c *Compiled) feasible(st *state, p []byte) bool {
	w := c.walker.Get().(*walker)
	defer c.walker.Put(w)
	mark := w.arena.mark()
	defer w.arena.release(mark)
	var cur, next state
	cur = *st
	for _, b := range p {
		w.seen = c.g.advance(&cur, b, &next, &w.arena, w.seen)
		if next.dead() {
			return false
		}
		cur, next = next, state{stacks: cur.stacks[:0:0]}
	}
	return true
}

// walker is the scratch space of one mask computation.
type walker struct {
	c      *Compiled
	arena  frameAlloc
	levels []state // the state after each byte of the token being walked
	seen   []*frame
	key    []byte
	bits   []uint64
}

// walk visits the children of trie node n from state st (after depth
// bytes), marking every token whose bytes keep the input valid.
func (w *walker) walk(n int32, st *state, depth int) {
	g, v := w.c.g, w.c.v
	tops := g.tops(st)
	next := &w.levels[depth]
	for e := v.childStart[n]; e < v.childStart[n+1]; e++ {
		b := v.childByte[e]
		if !tops.has(b) {
			continue
		}
		mark := w.arena.mark()
		w.seen = g.advance(st, b, next, &w.arena, w.seen)
		if !next.dead() {
			child := v.childNode[e]
			for _, id := range v.tokIDs[v.tokStart[child]:v.tokStart[child+1]] {
				w.bits[id>>6] |= 1 << (id & 63)
			}
			if len(next.stacks) > 0 && v.childStart[child] < v.childStart[child+1] {
				w.walk(child, next, depth+1)
			}
		}
		w.arena.release(mark)
	}
}

// arenaMark is a position in an arena.
type arenaMark struct{ ci, i int }

// mark returns the arena's current position.
func (a *frameAlloc) mark() arenaMark { return arenaMark{a.ci, a.i} }

// release frees every frame handed out since m.
func (a *frameAlloc) release(m arenaMark) { a.ci, a.i = m.ci, m.i }

// Matcher is one request's position in a grammar. It implements the
// engine's Constraint. A Matcher is not safe for concurrent use.
type Matcher struct {
	c  *Compiled
	st state
}

// Mask sets the logits of the tokens that may not follow prev to -Inf
// (ids beyond the vocabulary included), and reports whether any token is
// left.
func (m *Matcher) Mask(prev int32, logits []float32) bool {
	bits := m.c.mask(&m.st)
	if v := m.c.v; v.atStart(prev) && len(v.startDiffers) > 0 && len(m.st.stacks) > 0 {
		bits = slices.Clone(bits)
		for _, id := range v.startDiffers {
			p := v.piece(prev, id)
			if len(p) > 0 && m.c.feasible(&m.st, p) {
				bits[id>>6] |= 1 << (id & 63)
			} else {
				bits[id>>6] &^= 1 << (id & 63)
			}
		}
	}
	any := false
	inf := float32(math.Inf(-1))
	for i := range logits {
		if i < m.c.v.size && bits[i>>6]&(1<<(i&63)) != 0 {
			any = true
			continue
		}
		logits[i] = inf
	}
	return any
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
		m.st.stacks = nil
		return true, nil
	}
	p := v.piece(prev, tok)
	if len(p) == 0 {
		return false, ErrRejected
	}
	cur := m.st
	for _, b := range p {
		var next state
		m.c.g.advance(&cur, b, &next, nil, nil)
		if next.dead() {
			return false, ErrRejected
		}
		cur = next
	}
	m.st = cur
	return len(cur.stacks) == 0, nil
}

// Complete reports whether the output so far is a whole match.
func (m *Matcher) Complete() bool { return m.st.accept }

// AcceptString advances past the bytes of s, as if generated; it reports
// false, leaving the matcher where it was, if the grammar does not allow them.
func (m *Matcher) AcceptString(s string) bool {
	cur := m.st
	for i := range len(s) {
		var next state
		m.c.g.advance(&cur, s[i], &next, nil, nil)
		if next.dead() {
			return false
		}
		cur = next
	}
	m.st = cur
	return true
}
