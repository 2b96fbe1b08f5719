package kvcache

// lruList is a doubly linked list of block ids, oldest first, in arrays
// indexed by block id; index n (the number of blocks) is the sentinel.
type lruList struct {
	prev, next []int32
	n          int // blocks in the list
}

// newLRUList returns an empty list for blocks 0..n-1.
func newLRUList(n int) lruList {
	l := lruList{prev: make([]int32, n+1), next: make([]int32, n+1)}
	l.prev[n], l.next[n] = int32(n), int32(n)
	return l
}

// sentinel is the list head's index.
func (l *lruList) sentinel() int32 { return int32(len(l.next) - 1) }

// push appends b at the newest end.
func (l *lruList) push(b int32) {
	s := l.sentinel()
	last := l.prev[s]
	l.next[last], l.prev[b] = b, last
	l.next[b], l.prev[s] = s, b
	l.n++
}

// remove takes b out of the list.
func (l *lruList) remove(b int32) {
	p, nx := l.prev[b], l.next[b]
	l.next[p], l.prev[nx] = nx, p
	l.n--
}

// oldest is the least recently pushed block; the list must not be empty.
func (l *lruList) oldest() int32 {
	if l.n == 0 {
		panic("kvcache: no cached block to reclaim")
	}
	return l.next[l.sentinel()]
}
