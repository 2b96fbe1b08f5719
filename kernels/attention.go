package kernels

import (
	"fmt"
	"math"
	"unsafe"
)

// AttnChunk is the number of tokens whose scores share one online-softmax
// update. Chunks are aligned to the absolute token index, so splitting a
// sequence into blocks whose sizes are multiples of AttnChunk does not
// change any bit of the result; callers that stage keys and values feed
// runs of whole chunks.
const AttnChunk = 16

// AttnScale is the softmax temperature of dot-product attention over heads
// of headDim values, 1/sqrt(headDim); every attention implementation
// scales its scores by it.
func AttnScale(headDim int) float32 { return float32(1 / math.Sqrt(float64(headDim))) }

// AttnState is the running state of one fused attention pass: one key/value
// head and its group of query heads (GQA), fed one block of tokens at a
// time. Each key and value row is read once for the whole group.
//
// The update is an online softmax in chunks of AttnChunk tokens aligned to the
// token index: for head h with scores s_t = (q_h · k_t) * scale (dot in the
// order of reduce.go), m' = max(m, max_t s_t), alpha = exp32(m - m'),
// p_t = exp32(s_t - m'), sum' = sum*alpha + p_0 + p_1 + ... (in token
// order), acc' = acc*alpha then acc' = fma(p_t, v_t, acc') in token order.
// Every implementation performs exactly these operations.
//
// A pass may also give each head its own token limit (ResetLimited): the
// heads then share every key and value read, and each head's bits are
// those of a pass fed exactly its own tokens. Prefill uses this to attend
// the query heads of several positions of one sequence at once.
type AttnState struct {
	im         *impl
	capHeads   int       // heads the buffers hold
	heads, dim int       // heads of the current pass
	lim        []int     // per head of the current pass: tokens it takes; nil: all
	n          int       // tokens consumed so far
	max, sum   []float32 // per head
	acc        []float32 // heads × dim
	s          []float32 // chunk scores, heads × AttnChunk, then one exponent per head
	vbuf       []float32 // widened values of one chunk, AttnChunk × dim
	tail       []float32 // tile-kernel tail scratch
	qact       []byte    // the heads' queries quantized for quantized keys (quantizeActQ8), per head
	qready     bool      // qact holds the current pass's queries
	kbuf       []float32 // dequantized keys of one chunk of short-block rows, AttnChunk × dim
}

// NewAttnState allocates the state for heads query heads of headDim values
// sharing one key/value head (at most heads for ResetLimited). Reuse it
// across sequences with Reset.
func NewAttnState(heads, headDim int) *AttnState {
	return newAttnState(active, heads, headDim)
}

func newAttnState(im *impl, heads, headDim int) *AttnState {
	if heads < 1 || headDim < 1 {
		panic(fmt.Sprintf("kernels: attention with %d heads of %d", heads, headDim))
	}
	s := &AttnState{
		im: im, capHeads: heads, heads: heads, dim: headDim,
		max: make([]float32, heads), sum: make([]float32, heads),
		acc: make([]float32, heads*headDim), s: make([]float32, heads*AttnChunk+(heads+AttnChunk-1)/AttnChunk*AttnChunk),
		vbuf: make([]float32, AttnChunk*headDim),
		tail: make([]float32, (maxTileRows+maxTileCols)*lanes),
	}
	if headDim%Q8Block == 0 {
		s.qact = make([]byte, heads*q8ActBytes(headDim))
	} else {
		s.kbuf = make([]float32, AttnChunk*headDim)
	}
	s.Reset()
	return s
}

// Reset starts a new pass over all the heads the state holds.
func (s *AttnState) Reset() {
	s.heads, s.lim = s.capHeads, nil
	s.reset()
}

// ResetLimited starts a new pass over len(lim) heads, at most the number
// the state holds, in which head h takes only the first lim[h] tokens fed
// to the pass. Attend's q then holds len(lim) heads, and each head's
// output has the bits of a Reset pass fed exactly its lim[h] tokens. The
// pass keeps lim until the next reset. Raw scores are written for the
// tokens a head takes.
func (s *AttnState) ResetLimited(lim []int) {
	if len(lim) < 1 || len(lim) > s.capHeads {
		panic(fmt.Sprintf("kernels: attention pass over %d of %d heads", len(lim), s.capHeads))
	}
	s.heads, s.lim = len(lim), lim
	s.reset()
}

// reset clears the state of the pass's s.heads heads.
func (s *AttnState) reset() {
	s.n, s.qready = 0, false
	for h := range s.heads {
		s.max[h] = float32(math.Inf(-1))
		s.sum[h] = 0
	}
	clear(s.acc[:s.heads*s.dim])
}

// Tokens returns the number of tokens consumed since Reset.
func (s *AttnState) Tokens() int { return s.n }

// AttendF32 consumes n tokens whose keys and values are float32 rows of
// headDim values, stride values apart (token i at k[i*stride:]). q holds
// the group's query heads one after another. If scores is not nil, the
// scaled raw scores are written to scores[h*n+i]; NormalizeScores turns
// them into attention weights after the last block. Every block but the
// last should hold a multiple of 16 tokens.
func (s *AttnState) AttendF32(q, k, v []float32, stride, n int, scale float32, scores []float32) {
	if n == 0 {
		return
	}
	s.check(q, len(k), len(v), stride, n, scores)
	s.attend(q, unsafe.Pointer(&k[0]), unsafe.Pointer(&v[0]), F32, F32, uintptr(4*stride), uintptr(4*stride), n, scale, scores)
}

// AttendF16 is AttendF32 for keys and values stored as F16.
func (s *AttnState) AttendF16(q []float32, k, v []uint16, stride, n int, scale float32, scores []float32) {
	if n == 0 {
		return
	}
	s.check(q, len(k), len(v), stride, n, scores)
	s.attend(q, unsafe.Pointer(&k[0]), unsafe.Pointer(&v[0]), F16, F16, uintptr(2*stride), uintptr(2*stride), n, scale, scores)
}

func (s *AttnState) check(q []float32, lk, lv, stride, n int, scores []float32) {
	need := (n-1)*stride + s.dim
	if len(q) < s.heads*s.dim || lk < need || lv < need || stride < s.dim || (scores != nil && len(scores) < s.heads*n) {
		panic(fmt.Sprintf("kernels: attention block of %d tokens (stride %d) with q %d, k %d, v %d, scores %d",
			n, stride, len(q), lk, lv, len(scores)))
	}
}

func (s *AttnState) attend(q []float32, k, v unsafe.Pointer, kt, vt DType, ks, vs uintptr, n int, scale float32, scores []float32) {
	if !kt.Float() && !shortRow(kt, s.dim) && !s.qready {
		s.quantizeQueries(q)
	}
	for i := 0; i < n; {
		c := min(n-i, AttnChunk-s.n%AttnChunk)
		s.scoreChunk(q, unsafe.Add(k, uintptr(i)*ks), kt, ks, c)
		vp, vstride := s.valueChunk(unsafe.Add(v, uintptr(i)*vs), vt, vs, c)
		s.update(c, scale, vp, vstride, scores, n, i)
		s.n += c
		i += c
	}
}

// scoreChunk leaves in s.s[h*AttnChunk+t] the raw dot q_h · k_t of the c
// key rows of type kt at k, ks bytes apart.
func (s *AttnState) scoreChunk(q []float32, k unsafe.Pointer, kt DType, ks uintptr, c int) {
	if shortRow(kt, s.dim) { // dequantized, then scored as F32 keys
		dequantRows(s.im, kt, &s.kbuf[0], (*byte)(k), ks, c, s.dim)
		k, kt, ks = unsafe.Pointer(&s.kbuf[0]), F32, uintptr(4*s.dim)
	} else if !kt.Float() {
		s.quantScores(k, kt, ks, c)
		return
	}
	if !attnScores(s.im, kt, &q[0], s.heads, k, ks, c, s.dim, &s.s[0]) {
		dotTiles(s.im.floats(kt), kt, k, ks, c, maxTileRows, q, s.dim, s.heads, s.dim, s.s, AttnChunk, s.tail)
	}
}

// valueChunk returns the c value rows of type vt at v, vs bytes apart, as
// float32 rows and their stride in bytes: in place for F32, else widened
// or dequantized into s.vbuf.
func (s *AttnState) valueChunk(v unsafe.Pointer, vt DType, vs uintptr, c int) (*float32, uintptr) {
	switch vt {
	case F32:
		return (*float32)(v), vs
	case F16, BF16:
		bf := vt == BF16
		if vs == uintptr(2*s.dim) {
			widenSlice(s.im, s.vbuf[:c*s.dim], unsafe.Slice((*uint16)(v), c*s.dim), bf)
		} else {
			for j := range c {
				widenSlice(s.im, s.vbuf[j*s.dim:(j+1)*s.dim], unsafe.Slice((*uint16)(unsafe.Add(v, uintptr(j)*vs)), s.dim), bf)
			}
		}
	default:
		dequantRows(s.im, vt, &s.vbuf[0], (*byte)(v), vs, c, s.dim)
	}
	return &s.vbuf[0], uintptr(s.dim) * 4
}

// update applies one chunk of c tokens whose raw dots are in s.s and whose
// values are v (float32 rows vstride bytes apart).
func (s *AttnState) update(c int, scale float32, v *float32, vstride uintptr, scores []float32, n, i int) {
	ninf := float32(math.Inf(-1))
	for h := range s.heads {
		sc := s.s[h*AttnChunk : (h+1)*AttnChunk : (h+1)*AttnChunk]
		alpha := &s.s[s.heads*AttnChunk+h] // exponent of alpha until expSlice
		ch := s.taken(h, c)
		if ch == 0 { // the head's tokens ended in an earlier chunk
			for t := range sc {
				sc[t] = ninf
			}
			*alpha = 0
			continue
		}
		m := s.max[h]
		for t := 0; t < ch; t++ {
			v := sc[t] * scale
			sc[t] = v
			if v > m {
				m = v
			}
		}
		if scores != nil {
			copy(scores[h*n+i:h*n+i+ch], sc[:ch])
		}
		*alpha = ninf
		if s.max[h] != ninf {
			*alpha = s.max[h] - m
		}
		s.max[h] = m
		live := ch
		if m == ninf { // no finite score yet: every weight is 0
			live = 0
		}
		for t := 0; t < live; t++ {
			sc[t] -= m
		}
		for t := live; t < AttnChunk; t++ {
			sc[t] = ninf
		}
	}
	used := s.heads*AttnChunk + (s.heads+AttnChunk-1)/AttnChunk*AttnChunk
	for j := s.heads * (AttnChunk + 1); j < used; j++ {
		s.s[j] = ninf // padding of the alpha exponents
	}
	expSlice(s.im, s.s[:used], s.s[:used])
	aligned := s.dim%accumWidth(s.im) == 0
	for h := range s.heads {
		ch := s.taken(h, c)
		if ch == 0 {
			continue
		}
		p := s.s[h*AttnChunk : (h+1)*AttnChunk]
		alpha := s.s[s.heads*AttnChunk+h]
		sum := s.sum[h] * alpha
		for _, pt := range p[:ch] {
			sum += pt
		}
		s.sum[h] = sum
		acc := &s.acc[h*s.dim]
		if aligned {
			accumVec(s.im, acc, &p[0], v, vstride, ch, s.dim, alpha)
		} else {
			genericAttnAccum(acc, &p[0], v, vstride, ch, s.dim, alpha)
		}
	}
}

// taken returns how many of the c tokens of the chunk starting at token
// s.n head h takes.
func (s *AttnState) taken(h, c int) int {
	if s.lim == nil {
		return c
	}
	return min(c, max(0, s.lim[h]-s.n))
}

// genericAttnAccum sets acc[i] = acc[i]*alpha, then acc[i] = fma(p[t],
// v[t][i], acc[i]) for t < n in order (rows of v vstride bytes apart).
func genericAttnAccum(acc, p, v *float32, vstride uintptr, n, d int, alpha float32) {
	a := unsafe.Slice(acc, d)
	ps := unsafe.Slice(p, n)
	for i := range a {
		x := a[i] * alpha
		for t, pt := range ps {
			x = fma32(pt, *(*float32)(unsafe.Add(unsafe.Pointer(v), uintptr(t)*vstride+uintptr(4*i))), x)
		}
		a[i] = x
	}
}

// Finish writes the attention output of every head, acc/sum, into out
// (heads × headDim): out = acc * (1/sum). Heads that saw no token get zeros.
func (s *AttnState) Finish(out []float32) {
	out = out[:s.heads*s.dim]
	for h := range s.heads {
		o, a := out[h*s.dim:(h+1)*s.dim], s.acc[h*s.dim:(h+1)*s.dim]
		if s.sum[h] == 0 {
			clear(o)
			continue
		}
		inv := 1 / s.sum[h]
		for i, x := range a {
			o[i] = x * inv
		}
	}
}

// NormalizeScores turns the raw scores one Attend call wrote for a block of
// n tokens into attention weights, exp32(score - max) / sum with the
// state's final max and sum: call it after the last block. It does not
// change the attention output.
func (s *AttnState) NormalizeScores(scores []float32, n int) {
	for h := range s.heads {
		w := scores[h*n : (h+1)*n]
		m := s.max[h]
		for i := range w {
			w[i] -= m
		}
		expSlice(s.im, w, w)
		inv := 1 / s.sum[h]
		for i := range w {
			w[i] *= inv
		}
	}
}
