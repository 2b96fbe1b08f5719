package kvcache

import "sieve/kernels"

// chunk is the number of tokens the attention kernel folds into one
// online-softmax update; its chunks are aligned to the token index, so
// feeding it runs of whole chunks gives the same bits however the slots
// are laid out.
const chunk = kernels.AttnChunk

// prefillRun is the most tokens of one sequence whose query heads share
// one pass over the keys and values (see attention.attend).
const prefillRun = 16

// work is one set of per-worker buffers: the fused attention state of the
// query heads of up to prefillRun tokens over one KV head, with their
// token limits and their queries and outputs gathered, a staging copy of
// one chunk of keys and values for block sizes that are not a multiple of
// chunk, and a growable buffer for the raw attention weights of a scored
// query.
type work struct {
	st    *kernels.AttnState // prefillRun × group heads
	lim   []int              // per head of a pass: the slots it sees
	q     []float32          // queries of a run, head after head
	out   []float32          // outputs of a run, head after head
	stage []float32          // F32 keys then values of one chunk, 2×chunk×hd
	st16  []uint16           // F16 keys then values of one chunk, 2×chunk×hd
	stRaw []byte             // raw key rows then value rows of one chunk
	raw   []float32
}

// scratch holds one set of buffers per pool worker, indexed by the
// worker number the pool hands to Range.
type scratch struct {
	sets []work
}

// newScratch makes n sets for attention over group query heads per KV
// head, over the storage of bp. Block sizes that are not a multiple of
// chunk get a staging buffer.
func newScratch(n, group int, bp *blockPool) *scratch {
	hd, bs := bp.hd, bp.bs
	s := &scratch{sets: make([]work, n)}
	for i := range s.sets {
		w := work{
			st:  kernels.NewAttnState(prefillRun*group, hd),
			lim: make([]int, prefillRun*group),
			q:   make([]float32, prefillRun*group*hd),
			out: make([]float32, prefillRun*group*hd),
		}
		if bs%chunk != 0 {
			switch {
			case bp.raw != nil:
				w.stRaw = make([]byte, chunk*(bp.kRow+bp.vRow))
			case bp.f16 != nil:
				w.st16 = make([]uint16, 2*chunk*hd)
			default:
				w.stage = make([]float32, 2*chunk*hd)
			}
		}
		s.sets[i] = w
	}
	return s
}

// rawBuf returns n values of the set's growable buffer. The caller holds
// the set.
func (w *work) rawBuf(n int) []float32 {
	if cap(w.raw) < n {
		w.raw = make([]float32, n, 2*n)
	}
	return w.raw[:n]
}
