package grammar

// The automaton's states are interned as they are met and their byte
// transitions memoized, which builds the part of a DFA that decoding
// visits: a mask walk over the vocabulary trie is then mostly table
// lookups, and a state seen before (inside a string, in the next request)
// is found by its key.

// maxDFAStates bounds the interned states of one Compiled (each takes
// about 1 KiB of transitions); beyond it the table starts over.
const maxDFAStates = 4096

// maxWalkSteps bounds the transitions one mask computation may compute.
const maxWalkSteps = 1 << 14

// Transition targets that are not state ids.
const (
	transUnknown int32 = -1
	transDead    int32 = -2
)

// dstate is an interned automaton state.
type dstate struct {
	st   state
	tops byteSet     // the bytes that may come next
	next *[256]int32 // memoized transitions, allocated on first use
	mask []uint64    // the allowed tokens, once computed
}

// dfa is the table of interned states.
type dfa struct {
	states []*dstate
	live   []bool // by id: the state has stacks, so bytes may follow
	byKey  map[string]int32
	key    []byte
	gen    uint64 // counts resets, so that a matcher can tell a stale id
	// budget, when not negative, is how many more transitions a mask walk
	// may compute; past it the rest count as dead (the mask narrows), so
	// that an ambiguous grammar cannot stall decoding.
	budget int
}

// reset empties the table.
func (d *dfa) reset() {
	d.gen++
	clear(d.states)
	d.states = d.states[:0]
	d.live = d.live[:0]
	clear(d.byKey)
}

// intern returns the id of st, adding it when new.
func (d *dfa) intern(g *Grammar, st state) int32 {
	d.key = st.key(d.key[:0])
	if id, ok := d.byKey[string(d.key)]; ok {
		return id
	}
	id := int32(len(d.states))
	d.states = append(d.states, &dstate{st: st, tops: g.tops(&st)})
	d.live = append(d.live, len(st.stacks) > 0)
	d.byKey[string(d.key)] = id
	return id
}

// table returns the transitions of state id: transDead for the bytes
// that cannot come next, transUnknown for those not yet computed.
func (d *dfa) table(id int32) *[256]int32 {
	s := d.states[id]
	if s.next == nil {
		s.next = new([256]int32)
		for i := range s.next {
			if s.tops.has(byte(i)) {
				s.next[i] = transUnknown
			} else {
				s.next[i] = transDead
			}
		}
	}
	return s.next
}

// step returns the state after byte b from state id, or transDead.
func (d *dfa) step(g *Grammar, id int32, b byte) int32 {
	if t := d.table(id)[b]; t != transUnknown {
		return t
	}
	if d.budget == 0 {
		return transDead // not memoized: a later walk may compute it
	}
	if d.budget > 0 {
		d.budget--
	}
	st := g.advance(&d.states[id].st, b)
	t := transDead
	if !st.dead() {
		t = d.intern(g, st)
	}
	for _, c := range g.classes[g.classOf[b]] {
		d.states[id].next[c] = t // the same sets hold c: the same state follows
	}
	return t
}
