package kvcache

import "sync/atomic"

// scratch hands out conversion buffers to the pool's workers without
// allocating: a Run has at most as many concurrent Range calls as the
// pool has threads, and each call takes one buffer for its duration.
type scratch struct {
	bufs [][]float32
	busy []atomic.Bool
	size int
}

// newScratch makes n buffers of size values.
func newScratch(n, size int) *scratch {
	s := &scratch{bufs: make([][]float32, n), busy: make([]atomic.Bool, n), size: size}
	for i := range s.bufs {
		s.bufs[i] = make([]float32, size)
	}
	return s
}

// get takes a free buffer and returns it with its index (-1 when none was
// free and the buffer is a fresh allocation).
func (s *scratch) get() ([]float32, int) {
	for i := range s.busy {
		if s.busy[i].CompareAndSwap(false, true) {
			return s.bufs[i], i
		}
	}
	return make([]float32, s.size), -1
}

// put returns buffer i.
func (s *scratch) put(i int) {
	if i >= 0 {
		s.busy[i].Store(false)
	}
}
