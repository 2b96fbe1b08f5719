package tokenizer

// symbol is one segment text[start:end] of the text being merged, linked to
// its neighbours. A symbol absorbed by its left neighbour has end -1.
type symbol struct {
	start, end int32
	prev, next int32 // symbol indexes, -1 at the ends
	id         int32 // token id of the segment, -1 when it is not a token
}

// candidate is a queued merge of two adjacent symbols.
type candidate struct {
	key    float32 // smaller keys merge first
	start  int32   // byte offset of the left symbol: equal keys merge leftmost first
	left   int32   // symbol index of the left part
	right  int32   // symbol index of the right part
	end    int32   // end of the right part when queued: the entry is stale if it changed
	result int32   // token id of the merged segment
}

// before orders candidates: lower key first, then leftmost.
func (c candidate) before(o candidate) bool {
	return c.key < o.key || (c.key == o.key && c.start < o.start)
}

// pairRanker decides whether two adjacent symbols of text merge, and with
// which priority key (smaller first) into which token.
type pairRanker interface {
	rankPair(text string, left, right *symbol) (key float32, result int32, ok bool)
}

// merger holds the scratch buffers of one merge run; it is reused through a
// sync.Pool and is never shared between goroutines at the same time.
type merger struct {
	syms  []symbol
	queue []candidate
}

// reset clears the buffers for a new text.
func (m *merger) reset() {
	m.syms = m.syms[:0]
	m.queue = m.queue[:0]
}

// add appends the symbol text[start:end] with token id (or -1).
func (m *merger) add(start, end int, id int32) {
	n := int32(len(m.syms))
	m.syms = append(m.syms, symbol{start: int32(start), end: int32(end), prev: n - 1, next: n + 1, id: id})
}

// run merges the symbols of text, best pair first, until no adjacent pair
// merges. Afterwards the live symbols are reachable from index 0 through next.
func (m *merger) run(text string, r pairRanker) {
	if len(m.syms) == 0 {
		return
	}
	m.syms[len(m.syms)-1].next = -1
	for i := 0; i+1 < len(m.syms); i++ {
		m.consider(text, r, int32(i), int32(i+1))
	}
	for len(m.queue) > 0 {
		c := m.pop()
		left := &m.syms[c.left]
		if left.end < 0 || left.next != c.right || m.syms[c.right].end != c.end {
			continue // stale: one side changed since the pair was queued
		}
		right := &m.syms[c.right]
		left.end = right.end
		left.id = c.result
		left.next = right.next
		if right.next >= 0 {
			m.syms[right.next].prev = c.left
		}
		right.end = -1
		if left.prev >= 0 {
			m.consider(text, r, left.prev, c.left)
		}
		if left.next >= 0 {
			m.consider(text, r, c.left, left.next)
		}
	}
}

// consider queues the merge of symbols l and r if the ranker allows it.
func (m *merger) consider(text string, rk pairRanker, l, r int32) {
	ls, rs := &m.syms[l], &m.syms[r]
	key, result, ok := rk.rankPair(text, ls, rs)
	if !ok {
		return
	}
	m.push(candidate{key: key, start: ls.start, left: l, right: r, end: rs.end, result: result})
}

// push adds c to the binary min-heap.
func (m *merger) push(c candidate) {
	q := append(m.queue, c)
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q[i].before(q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
	m.queue = q
}

// pop removes and returns the best candidate.
func (m *merger) pop() candidate {
	q := m.queue
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(q) {
			break
		}
		best := l
		if r := l + 1; r < len(q) && q[r].before(q[l]) {
			best = r
		}
		if !q[best].before(q[i]) {
			break
		}
		q[i], q[best] = q[best], q[i]
		i = best
	}
	m.queue = q
	return top
}
