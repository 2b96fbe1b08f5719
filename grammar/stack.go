package grammar

// The automaton's state is a set of stacks. A stack is a persistent linked
// list of frames; its top frame sits at a byte-set element of the grammar
// and the frames below it are where to go on when the rules above return.
// Expanding a rule reference at the end of an alternative pushes nothing
// (a tail call), so repetitions do not grow the stacks.

// maxDepth bounds the frames of one stack (nested objects and arrays,
// recursive $refs); deeper expansions are dropped.
const maxDepth = 512

// maxStacks bounds the stacks of one state (ambiguous grammars); the rest
// are dropped, which narrows the language but never widens it.
const maxStacks = 1024

// frame is one level of a stack.
type frame struct {
	pos   int32 // element index
	depth int32 // frames below, plus one
	hash  uint64
	next  *frame
}

// equal reports whether the stacks from f and o are the same.
func (f *frame) equal(o *frame) bool {
	for f != o {
		if f == nil || o == nil || f.hash != o.hash || f.pos != o.pos {
			return false
		}
		f, o = f.next, o.next
	}
	return true
}

// state is a set of stacks, and whether the input so far is complete.
type state struct {
	stacks []*frame
	accept bool
}

// dead reports that no input at all can follow or end here.
func (s *state) dead() bool { return len(s.stacks) == 0 && !s.accept }

// newFrame returns a frame at pos over next.
func newFrame(pos int32, next *frame) *frame {
	h := uint64(pos)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	d := int32(1)
	if next != nil {
		h ^= next.hash*0xbf58476d1ce4e5b9 + (next.hash >> 29)
		d = next.depth + 1
	}
	return &frame{pos: pos, depth: d, hash: h, next: next}
}

// maxClosure bounds the frames one closure expands (grammars with long
// chains of nullable rules); the rest are dropped, narrowing the language.
const maxClosure = 1 << 14

// seenMapAt is the number of expanded frames from which a closure indexes
// them by hash instead of scanning them.
const seenMapAt = 32

// closer expands frames into a state; seen holds the frames expanded in
// this closure, so that nullable cycles end (seenByHash indexes them once
// there are many).
type closer struct {
	g          *Grammar
	seen       []*frame
	seenByHash map[uint64]*frame
	out        *state
}

// visit records f as expanded and reports whether it was new.
func (c *closer) visit(f *frame) bool {
	if c.seenByHash != nil {
		if _, ok := c.seenByHash[f.hash]; ok {
			return false // a hash collision drops f: it narrows, never widens
		}
		c.seenByHash[f.hash] = f
		c.seen = append(c.seen, f)
		return true
	}
	for _, s := range c.seen {
		if s.hash == f.hash && s.equal(f) {
			return false
		}
	}
	c.seen = append(c.seen, f)
	if len(c.seen) == seenMapAt {
		c.seenByHash = make(map[uint64]*frame, 2*seenMapAt)
		for _, s := range c.seen {
			c.seenByHash[s.hash] = s
		}
	}
	return true
}

// expand adds the stacks that frame f stands for to the state.
func (c *closer) expand(f *frame) {
	if f.depth > maxDepth || len(c.out.stacks) >= maxStacks || len(c.seen) >= maxClosure || !c.visit(f) {
		return
	}
	e := c.g.elems[f.pos]
	switch e.kind {
	case kindSet:
		c.out.stacks = append(c.out.stacks, f)
	case kindEnd:
		if f.next == nil {
			c.out.accept = true
			return
		}
		c.expand(f.next)
	case kindRef:
		cont := f.next
		if c.g.elems[f.pos+1].kind != kindEnd {
			cont = newFrame(f.pos+1, f.next)
		}
		for _, start := range c.g.rules[e.arg] {
			c.expand(newFrame(start, cont))
		}
	}
}

// start returns the initial state of g.
func (g *Grammar) start() state {
	var st state
	c := closer{g: g, out: &st}
	for _, a := range g.rules[g.root] {
		c.expand(newFrame(a, nil))
	}
	return st
}

// advance returns the state after byte b from st.
func (g *Grammar) advance(st *state, b byte) state {
	var out state
	c := closer{g: g, out: &out}
	for _, f := range st.stacks {
		if g.sets[g.elems[f.pos].arg].has(b) {
			c.expand(newFrame(f.pos+1, f.next))
		}
	}
	return out
}

// tops is the set of bytes that may come next from st.
func (g *Grammar) tops(st *state) byteSet {
	var s byteSet
	for _, f := range st.stacks {
		s.union(&g.sets[g.elems[f.pos].arg])
	}
	return s
}

// key appends a key identifying st to buf: equal keys mean equal states.
func (st *state) key(buf []byte) []byte {
	if st.accept {
		buf = append(buf, 1)
	} else {
		buf = append(buf, 0)
	}
	for _, f := range st.stacks {
		for ; f != nil; f = f.next {
			p := uint32(f.pos)
			buf = append(buf, byte(p), byte(p>>8), byte(p>>16), byte(p>>24))
		}
		buf = append(buf, 0xff, 0xff, 0xff, 0xff)
	}
	return buf
}
