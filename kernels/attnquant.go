package kernels

import (
	"fmt"
	"unsafe"
)

// AttendQuant is AttendF32 for keys stored as rows of type kt and values
// as rows of type vt (see KVRowBytes), one row of headDim values per
// token, kstride and vstride bytes apart (token i's key at k[i*kstride:]).
//
// Quantized keys (Q8_0, Q4_0) are scored with integer dot products: the
// pass's query heads are quantized once, on the first call after a reset,
// as a quantized matrix product quantizes its input (32-value blocks, one
// scale each), and each score is the Q8_0 (or Q4_0) row product of
// reduce.go; every later call of the pass must pass the same q. Keys in
// short blocks (head dimensions 8 and 16) are dequantized and scored as
// F32 keys instead, with the query as it is. Quantized
// values are dequantized (value = d*q) into float32 rows and accumulated
// as AttendF32 does. Float keys and values take the float paths, so
// AttendQuant with F32 or F16 for both gives AttendF32's or AttendF16's
// bits.
func (s *AttnState) AttendQuant(q []float32, k []byte, kt DType, v []byte, vt DType, kstride, vstride, n int, scale float32, scores []float32) {
	if n == 0 {
		return
	}
	kb, vb := KVRowBytes(kt, s.dim), KVRowBytes(vt, s.dim)
	if kb == 0 || vb == 0 {
		panic(fmt.Sprintf("kernels: attention over %v keys and %v values of %d values", kt, vt, s.dim))
	}
	if len(q) < s.heads*s.dim || kstride < kb || vstride < vb || len(k) < (n-1)*kstride+kb || len(v) < (n-1)*vstride+vb ||
		(scores != nil && len(scores) < s.heads*n) {
		panic(fmt.Sprintf("kernels: attention block of %d tokens (strides %d, %d) with q %d, k %d, v %d, scores %d",
			n, kstride, vstride, len(q), len(k), len(v), len(scores)))
	}
	s.attend(q, unsafe.Pointer(&k[0]), unsafe.Pointer(&v[0]), kt, vt, uintptr(kstride), uintptr(vstride), n, scale, scores)
}

// quantizeQueries quantizes the pass's query heads into s.qact.
func (s *AttnState) quantizeQueries(q []float32) {
	ab := q8ActBytes(s.dim)
	for h := range s.heads {
		quantizeActQ8(s.qact[h*ab:(h+1)*ab], q[h*s.dim:(h+1)*s.dim])
	}
	s.qready = true
}

// quantScores leaves in s.s[h*AttnChunk+t] the product of the quantized
// query head h with the c key rows of quantized type kt at k, ks bytes
// apart, with the tile kernels of quantized matrix products (tokens as
// rows, heads as inputs).
func (s *AttnState) quantScores(k unsafe.Pointer, kt DType, ks uintptr, c int) {
	qk := s.im.quants(kt)
	nb, ab := s.dim/Q8Block, q8ActBytes(s.dim)
	if s.heads == 1 && qk.rowLoop != nil {
		qk.rowLoop((*byte)(k), ks, &s.qact[0], nb, c, &s.s[0])
		return
	}
	for t := 0; t < c; {
		rt, _ := qk.pick(c-t, s.heads)
		for h := 0; h < s.heads; {
			_, ch := qk.pick(rt, s.heads-h)
			qk.tile[rt][ch]((*byte)(unsafe.Add(k, uintptr(t)*ks)), ks, &s.qact[h*ab], uintptr(ab), nb,
				&s.s[h*AttnChunk+t], 4*AttnChunk)
			h += ch
		}
		t += rt
	}
}

// dequantRows writes the rows rows of quantized type t at src, stride
// bytes apart, each of d values, as float32 rows back to back at dst.
func dequantRows(im *impl, t DType, dst *float32, src *byte, stride uintptr, rows, d int) {
	if dequantRowsVec(im, t, dst, src, stride, rows, d) {
		return
	}
	rb := KVRowBytes(t, d)
	out := unsafe.Slice(dst, rows*d)
	for r := range rows {
		row := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(src), uintptr(r)*stride)), rb)
		if shortRow(t, d) {
			dequantShortRow(out[r*d:(r+1)*d], t, row)
		} else {
			dequantSmall(out[r*d:(r+1)*d], t, row)
		}
	}
}
