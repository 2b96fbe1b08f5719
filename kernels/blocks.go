package kernels

import "encoding/binary"

// Block decoders. Each quantized type's block is decoded into small
// integers and scales, the form that both DequantRow and the generic dot
// products use; the layouts are GGML's.

// iq4Values maps the 4-bit codes of IQ4_NL and IQ4_XS to their values.
var iq4Values = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// smallBlock is one decoded 32-value block: value j is d*q[j] + m.
type smallBlock struct {
	q    [Q8Block]int8
	d, m float32
}

// half returns the F16 value at b[0:2].
func half(b []byte) float32 { return F16ToF32(binary.LittleEndian.Uint16(b)) }

// decodeSmall decodes one block of a 32-value type t (Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0 or IQ4_NL) from b.
func decodeSmall(t DType, b []byte, s *smallBlock) {
	s.d, s.m = half(b), 0
	switch t {
	case Q8_0:
		for j := range Q8Block {
			s.q[j] = int8(b[2+j])
		}
	case Q4_0, IQ4_NL:
		for j, v := range b[2:18] {
			lo, hi := int8(v&15)-8, int8(v>>4)-8
			if t == IQ4_NL {
				lo, hi = iq4Values[v&15], iq4Values[v>>4]
			}
			s.q[j], s.q[j+16] = lo, hi
		}
	case Q4_1:
		s.m = half(b[2:])
		for j, v := range b[4:20] {
			s.q[j], s.q[j+16] = int8(v&15), int8(v>>4)
		}
	case Q5_0, Q5_1:
		off, bias := 2, int8(16)
		if t == Q5_1 {
			s.m, off, bias = half(b[2:]), 4, 0
		}
		qh := binary.LittleEndian.Uint32(b[off:])
		for j, v := range b[off+4 : off+20] {
			lo := int8(v&15 | byte(qh>>j&1)<<4)
			hi := int8(v>>4 | byte(qh>>(j+16)&1)<<4)
			s.q[j], s.q[j+16] = lo-bias, hi-bias
		}
	default:
		panic("kernels: no 32-value block decoder for " + t.String())
	}
}

// hasMin reports whether the values of type t carry an offset (a min).
func hasMin(t DType) bool { return t == Q4_1 || t == Q5_1 || t == Q2_K || t == Q4_K || t == Q5_K }

// superBlock is one decoded 256-value block: value j is
// d*sc[j/16]*q[j] - dmin*mn[j/16].
type superBlock struct {
	q       [SuperBlock]int8
	sc, mn  [SuperBlock / 16]int16
	d, dmin float32
}

// scaleMinK4 returns the 6-bit scale and min of sub-block j (of 8) packed
// in the 12 bytes p of a Q4_K or Q5_K block.
func scaleMinK4(j int, p []byte) (sc, mn int16) {
	if j < 4 {
		return int16(p[j] & 63), int16(p[j+4] & 63)
	}
	return int16(p[j+4]&15 | p[j-4]>>6<<4), int16(p[j+4]>>4 | p[j]>>6<<4)
}

// decodeSuper decodes one block of a 256-value type t from b.
func decodeSuper(t DType, b []byte, s *superBlock) {
	s.dmin = 0
	switch t {
	case Q2_K:
		s.d, s.dmin = half(b[80:]), half(b[82:])
		for g, v := range b[:16] {
			s.sc[g], s.mn[g] = int16(v&15), int16(v>>4)
		}
		qs := b[16:80]
		for j := range SuperBlock {
			// 128 values per 32 bytes: four 2-bit planes of 32 values.
			n, p, l := j/128, j%128/32, j%32
			s.q[j] = int8(qs[32*n+l] >> (2 * p) & 3)
		}
	case Q3_K:
		hm, qs, sb := b[:32], b[32:96], b[96:108]
		s.d = half(b[108:])
		for g := range 16 {
			lo := sb[g%8] >> (4 * (g / 8)) & 15
			hi := sb[8+g%4] >> (2 * (g / 4)) & 3
			s.sc[g], s.mn[g] = int16(lo|hi<<4)-32, 0
		}
		for j := range SuperBlock {
			n, p, l := j/128, j%128/32, j%32
			q := int8(qs[32*n+l] >> (2 * p) & 3)
			if hm[l]>>(4*n+p)&1 == 0 {
				q -= 4
			}
			s.q[j] = q
		}
	case Q4_K, Q5_K:
		s.d, s.dmin = half(b), half(b[2:])
		for g := range 8 {
			sc, mn := scaleMinK4(g, b[4:16])
			s.sc[2*g], s.sc[2*g+1], s.mn[2*g], s.mn[2*g+1] = sc, sc, mn, mn
		}
		qs, qh := b[16:144], []byte(nil)
		if t == Q5_K {
			qh, qs = b[16:48], b[48:176]
		}
		for j := range SuperBlock {
			// 64 values per 32 bytes: low nibbles, then high nibbles.
			c, p, l := j/64, j%64/32, j%32
			q := qs[32*c+l] >> (4 * p) & 15
			if qh != nil {
				q |= qh[l] >> (2*c + p) & 1 << 4
			}
			s.q[j] = int8(q)
		}
	case Q6_K:
		ql, qh, sc := b[:128], b[128:192], b[192:208]
		s.d = half(b[208:])
		for g := range 16 {
			s.sc[g], s.mn[g] = int16(int8(sc[g])), 0
		}
		for j := range SuperBlock {
			// Per 128 values: 64 low-nibble bytes and 32 bytes of 2-bit
			// high parts; quarter p of the 128 takes nibble p/2 of byte
			// l + 32*(p%2) and bits 2p..2p+1 of qh byte l.
			n, p, l := j/128, j%128/32, j%32
			lo := ql[64*n+l+32*(p%2)] >> (4 * (p / 2)) & 15
			hi := qh[32*n+l] >> (2 * p) & 3
			s.q[j] = int8(lo|hi<<4) - 32
		}
	case IQ4_XS:
		s.d = half(b)
		sh, sl, qs := binary.LittleEndian.Uint16(b[2:]), b[4:8], b[8:136]
		for g := range 8 {
			ls := int16(sl[g/2]>>(4*(g%2))&15) | int16(sh>>(2*g)&3)<<4
			s.sc[2*g], s.sc[2*g+1], s.mn[2*g], s.mn[2*g+1] = ls-32, ls-32, 0, 0
		}
		for j := range SuperBlock {
			c, p, l := j/32, j%32/16, j%16
			s.q[j] = iq4Values[qs[16*c+l]>>(4*p)&15]
		}
	default:
		panic("kernels: no 256-value block decoder for " + t.String())
	}
}
