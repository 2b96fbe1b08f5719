package grammar

import "fmt"

// Limits bound what a compiler may build, so that a hostile schema or
// pattern cannot take unbounded time or memory.
type Limits struct {
	// MaxElements bounds the grammar's elements (about 8 bytes each, plus
	// the rules that hold them).
	MaxElements int
	// MaxRules bounds the grammar's rules.
	MaxRules int
	// MaxSchemaDepth bounds the nesting of the schema document.
	MaxSchemaDepth int
	// MaxRefDepth bounds how deep a $ref target may nest in itself.
	MaxRefDepth int
	// MaxEnum bounds the values of one enum and the choices of a list.
	MaxEnum int
	// MaxWhitespace bounds the whitespace bytes allowed between two JSON
	// tokens, so that a model cannot loop on spaces.
	MaxWhitespace int
}

// DefaultLimits returns the limits Sieve compiles with.
func DefaultLimits() Limits {
	return Limits{MaxElements: 200_000, MaxRules: 50_000, MaxSchemaDepth: 64, MaxRefDepth: 6, MaxEnum: 4096, MaxWhitespace: 4}
}

// exprOp is the operator of an expression node.
type exprOp uint8

const (
	opSet    exprOp = iota // one byte of set
	opSeq                  // the subexpressions in order (none: the empty string)
	opAlt                  // any one subexpression (none: nothing matches)
	opRepeat               // subs[0] between min and max times (max < 0: unbounded)
	opRef                  // the rule
)

// expr is a grammar expression before it is lowered into rules.
type expr struct {
	op       exprOp
	set      byteSet
	subs     []*expr
	min, max int
	rule     int32
}

// exprSet matches one byte of s.
func exprSet(s byteSet) *expr { return &expr{op: opSet, set: s} }

// seq matches its arguments in order.
func seq(es ...*expr) *expr { return &expr{op: opSeq, subs: es} }

// alt matches any one of its arguments.
func alt(es ...*expr) *expr { return &expr{op: opAlt, subs: es} }

// empty matches the empty string.
func empty() *expr { return &expr{op: opSeq} }

// never matches nothing.
func never() *expr { return &expr{op: opAlt} }

// opt matches e or nothing.
func opt(e *expr) *expr { return alt(e, empty()) }

// repeat matches e min to max times (max < 0: any number).
func repeat(e *expr, min, max int) *expr {
	return &expr{op: opRepeat, subs: []*expr{e}, min: min, max: max}
}

// ref matches the rule.
func ref(rule int32) *expr { return &expr{op: opRef, rule: rule} }

// lit matches the bytes of s.
func lit(s string) *expr {
	es := make([]*expr, len(s))
	for i := range len(s) {
		es[i] = exprSet(setOf(s[i]))
	}
	return seq(es...)
}

// words matches any one of ws, factored into a trie so that a choice
// among many words stays deterministic.
func words(ws []string) *expr {
	type node struct {
		end  bool
		kids map[byte]*node
		keys []byte
	}
	root := &node{}
	for _, w := range ws {
		n := root
		for i := range len(w) {
			c := w[i]
			if n.kids == nil {
				n.kids = map[byte]*node{}
			}
			k, ok := n.kids[c]
			if !ok {
				k = &node{}
				n.kids[c] = k
				n.keys = append(n.keys, c)
			}
			n = k
		}
		n.end = true
	}
	var build func(n *node) *expr
	build = func(n *node) *expr {
		var es []*expr
		for _, c := range n.keys {
			es = append(es, seq(exprSet(setOf(c)), build(n.kids[c])))
		}
		if n.end {
			es = append(es, empty())
		}
		if len(es) == 1 {
			return es[0]
		}
		return alt(es...)
	}
	return build(root)
}

// atom is one element of a lowered alternative: a set (ref < 0) or a rule.
type atom struct {
	set byteSet
	ref int32
}

// builder collects rules and lowers expressions into them.
type builder struct {
	lim   Limits
	rules [][][]atom // by rule: alternatives of atoms
	size  int
	err   error
}

// newBuilder returns a builder bounded by lim.
func newBuilder(lim Limits) *builder { return &builder{lim: lim} }

// newRule reserves a rule, defined later with define.
func (b *builder) newRule() int32 {
	if len(b.rules) >= b.lim.MaxRules {
		b.fail(fmt.Errorf("%w: more than %d rules", ErrTooLarge, b.lim.MaxRules))
	}
	b.rules = append(b.rules, nil)
	return int32(len(b.rules) - 1)
}

// fail records the first error.
func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// define sets rule r to e.
func (b *builder) define(r int32, e *expr) {
	if b.err != nil {
		return
	}
	b.rules[r] = b.lowerAlts(e, nil)
}

// rule is newRule and define in one.
func (b *builder) rule(e *expr) int32 {
	r := b.newRule()
	b.define(r, e)
	return r
}

// count charges n elements against the limit.
func (b *builder) count(n int) {
	b.size += n
	if b.size > b.lim.MaxElements {
		b.fail(fmt.Errorf("%w: more than %d grammar elements", ErrTooLarge, b.lim.MaxElements))
	}
}

// lowerAlts lowers e into alternatives.
func (b *builder) lowerAlts(e *expr, out [][]atom) [][]atom {
	if e.op == opAlt {
		for _, s := range e.subs {
			out = b.lowerAlts(s, out)
		}
		return out
	}
	b.count(1)
	return append(out, b.lowerSeq(e, nil))
}

// lowerSeq appends the atoms of e to out, making rules for the parts
// that are not a plain sequence.
func (b *builder) lowerSeq(e *expr, out []atom) []atom {
	if b.err != nil {
		return out
	}
	switch e.op {
	case opSet:
		b.count(1)
		return append(out, atom{set: e.set, ref: -1})
	case opSeq:
		for _, s := range e.subs {
			out = b.lowerSeq(s, out)
		}
		return out
	case opRef:
		b.count(1)
		return append(out, atom{ref: e.rule})
	case opAlt:
		if len(e.subs) == 1 {
			return b.lowerSeq(e.subs[0], out)
		}
		b.count(1)
		return append(out, atom{ref: b.rule(e)})
	case opRepeat:
		return b.lowerRepeat(e, out)
	}
	panic("grammar: unknown expression")
}

// lowerRepeat appends a repetition: min copies of the item, then a rule
// for the optional rest (nested optionals when bounded, a right-recursive
// rule when not).
func (b *builder) lowerRepeat(e *expr, out []atom) []atom {
	item := b.lowerSeq(e.subs[0], nil)
	if len(item) != 1 {
		r := b.newRule()
		if b.err != nil {
			return out
		}
		b.rules[r] = [][]atom{item}
		item = []atom{{ref: r}}
	}
	for range e.min {
		b.count(1)
		if b.err != nil {
			return out
		}
		out = append(out, item[0])
	}
	switch {
	case e.max < 0:
		r := b.newRule()
		if b.err != nil {
			return out
		}
		b.rules[r] = [][]atom{{item[0], {ref: r}}, {}}
		b.count(3)
		out = append(out, atom{ref: r})
	case e.max > e.min:
		prev := int32(-1)
		for range e.max - e.min {
			r := b.newRule()
			b.count(3)
			if b.err != nil {
				return out
			}
			a := []atom{item[0]}
			if prev >= 0 {
				a = append(a, atom{ref: prev})
			}
			b.rules[r] = [][]atom{a, {}}
			prev = r
		}
		out = append(out, atom{ref: prev})
	}
	return out
}

// finish checks which rules can derive a finite string, drops the
// alternatives that cannot, and flattens the rules into a Grammar.
func (b *builder) finish(root int32) (*Grammar, error) {
	if b.err != nil {
		return nil, b.err
	}
	productive := b.productive()
	if !productive[root] {
		return nil, ErrUnsatisfiable
	}
	g := &Grammar{rules: make([][]int32, len(b.rules)), root: root}
	setIndex := map[byteSet]int32{}
	for r, alts := range b.rules {
		if !productive[r] {
			continue
		}
		for _, a := range alts {
			if !b.altProductive(a, productive) {
				continue
			}
			g.rules[r] = append(g.rules[r], int32(len(g.elems)))
			for _, at := range a {
				if at.ref >= 0 {
					g.elems = append(g.elems, elem{kind: kindRef, arg: at.ref})
					continue
				}
				i, ok := setIndex[at.set]
				if !ok {
					i = int32(len(g.sets))
					g.sets = append(g.sets, at.set)
					setIndex[at.set] = i
				}
				g.elems = append(g.elems, elem{kind: kindSet, arg: i})
			}
			g.elems = append(g.elems, elem{kind: kindEnd})
		}
	}
	g.classify()
	return g, nil
}

// productive finds the rules that derive some finite string: a worklist
// over the alternatives, each waiting for its rule references, in time
// linear in the grammar's size.
func (b *builder) productive() []bool {
	productive := make([]bool, len(b.rules))
	var pending []int // per alternative: rule references not yet productive
	var owner []int   // per alternative: its rule
	users := make([][]int, len(b.rules))
	var queue []int
	for r, alts := range b.rules {
		for _, a := range alts {
			i := len(pending)
			n := 0
			for _, at := range a {
				switch {
				case at.ref >= 0:
					users[at.ref] = append(users[at.ref], i)
					n++
				case at.set.empty():
					n = -1 << 30 // never completes
				}
			}
			pending, owner = append(pending, n), append(owner, r)
			if n == 0 && !productive[r] {
				productive[r] = true
				queue = append(queue, r)
			}
		}
	}
	for len(queue) > 0 {
		r := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, i := range users[r] {
			if pending[i]--; pending[i] == 0 && !productive[owner[i]] {
				productive[owner[i]] = true
				queue = append(queue, owner[i])
			}
		}
	}
	return productive
}

// altProductive reports whether every atom of a can derive a string.
func (b *builder) altProductive(a []atom, productive []bool) bool {
	for _, at := range a {
		if at.ref >= 0 && !productive[at.ref] || at.ref < 0 && at.set.empty() {
			return false
		}
	}
	return true
}
