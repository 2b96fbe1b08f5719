package kvcache

import "sync/atomic"

// scratch hands out per-worker buffers to the pool's workers without
// allocating: a Run has at most as many concurrent Range calls as the
// pool has threads, and each call takes one set of buffers for its
// duration. A set is a fixed-size F16 conversion buffer and a growable
// buffer for the raw attention weights of a scored query.
type scratch struct {
	bufs [][]float32
	raw  [][]float32
	busy []atomic.Bool
	size int
}

// newScratch makes n sets with conversion buffers of size values.
func newScratch(n, size int) *scratch {
	s := &scratch{bufs: make([][]float32, n), raw: make([][]float32, n), busy: make([]atomic.Bool, n), size: size}
	for i := range s.bufs {
		s.bufs[i] = make([]float32, size)
	}
	return s
}

// get takes a free set and returns its conversion buffer with its index
// (-1 when none was free and the buffer is a fresh allocation).
func (s *scratch) get() ([]float32, int) {
	for i := range s.busy {
		if s.busy[i].CompareAndSwap(false, true) {
			return s.bufs[i], i
		}
	}
	return make([]float32, s.size), -1
}

// rawBuf returns n values of set i's growable buffer (a fresh allocation
// for i = -1). The caller holds set i.
func (s *scratch) rawBuf(i, n int) []float32 {
	if i < 0 {
		return make([]float32, n)
	}
	if cap(s.raw[i]) < n {
		s.raw[i] = make([]float32, n, 2*n)
	}
	return s.raw[i][:n]
}

// put returns set i.
func (s *scratch) put(i int) {
	if i >= 0 {
		s.busy[i].Store(false)
	}
}
