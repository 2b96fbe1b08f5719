package kernels

import (
	"encoding/binary"
	"math/rand/v2"
)

// A float64 decoder of every quantized type, written from GGML's
// dequantize loops independently of blocks.go: the reference the kernels
// are tested against.

// f16At returns the F16 value at b[off:] in float64.
func f16At(b []byte, off int) float64 {
	return float64(F16ToF32(binary.LittleEndian.Uint16(b[off:])))
}

// refDecode returns the values of one row of type t in float64.
func refDecode(t DType, row []byte) []float64 {
	var out []float64
	bb := t.RowBytes(t.BlockSize())
	for off := 0; off < len(row); off += bb {
		out = append(out, refBlock(t, row[off:off+bb])...)
	}
	return out
}

// refBlock decodes one block of type t.
func refBlock(t DType, b []byte) []float64 {
	y := make([]float64, 0, t.BlockSize())
	switch t {
	case Q8_0:
		for j := range 32 {
			y = append(y, f16At(b, 0)*float64(int8(b[2+j])))
		}
	case Q4_0, Q4_1, IQ4_NL:
		d, m, qs, bias := f16At(b, 0), 0.0, b[2:18], 8
		if t == Q4_1 {
			m, qs, bias = f16At(b, 2), b[4:20], 0
		}
		lo, hi := make([]float64, 16), make([]float64, 16)
		for j, v := range qs {
			a, c := int(v&0xf)-bias, int(v>>4)-bias
			if t == IQ4_NL {
				a, c = int(iq4Values[v&0xf]), int(iq4Values[v>>4])
			}
			lo[j], hi[j] = d*float64(a)+m, d*float64(c)+m
		}
		y = append(append(y, lo...), hi...)
	case Q5_0, Q5_1:
		d, m, off, bias := f16At(b, 0), 0.0, 2, 16
		if t == Q5_1 {
			m, off, bias = f16At(b, 2), 4, 0
		}
		qh := binary.LittleEndian.Uint32(b[off:])
		lo, hi := make([]float64, 16), make([]float64, 16)
		for j, v := range b[off+4 : off+20] {
			a := int(v&0xf) | int((qh>>j)&1)<<4
			c := int(v>>4) | int((qh>>(j+16))&1)<<4
			lo[j], hi[j] = d*float64(a-bias)+m, d*float64(c-bias)+m
		}
		y = append(append(y, lo...), hi...)
	case Q2_K:
		d, dmin := f16At(b, 80), f16At(b, 82)
		q, is := b[16:80], 0
		for n := 0; n < 2; n++ {
			for shift := 0; shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					sc := b[is]
					is++
					for l := range 16 {
						v := float64((q[32*n+16*half+l] >> shift) & 3)
						y = append(y, d*float64(sc&0xf)*v-dmin*float64(sc>>4))
					}
				}
			}
		}
	case Q3_K:
		d := f16At(b, 108)
		hm, q, sb := b[:32], b[32:96], b[96:108]
		var sc [16]int
		for i := range 16 {
			low := int(sb[i%8])
			if i >= 8 {
				low >>= 4
			}
			sc[i] = (low&0xf | int(sb[8+i%4]>>(2*(i/4))&3)<<4) - 32
		}
		is, mask := 0, byte(1)
		for n := 0; n < 2; n++ {
			for shift := 0; shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					for l := range 16 {
						v := int((q[32*n+16*half+l] >> shift) & 3)
						if hm[16*half+l]&mask == 0 {
							v -= 4
						}
						y = append(y, d*float64(sc[is])*float64(v))
					}
					is++
				}
				mask <<= 1
			}
		}
	case Q4_K, Q5_K:
		d, dmin := f16At(b, 0), f16At(b, 2)
		sb := b[4:16]
		qs, qh := b[16:144], []byte(nil)
		if t == Q5_K {
			qh, qs = b[16:48], b[48:176]
		}
		scMin := func(j int) (float64, float64) {
			if j < 4 {
				return float64(sb[j] & 63), float64(sb[j+4] & 63)
			}
			return float64(sb[j+4]&0xf | (sb[j-4]>>6)<<4), float64(sb[j+4]>>4 | (sb[j]>>6)<<4)
		}
		for c := range 4 {
			for half := range 2 {
				sc, m := scMin(2*c + half)
				for l := range 32 {
					v := int(qs[32*c+l]>>(4*half)) & 0xf
					if qh != nil && qh[l]&(1<<(2*c+half)) != 0 {
						v += 16
					}
					y = append(y, d*sc*float64(v)-dmin*m)
				}
			}
		}
	case Q6_K:
		d := f16At(b, 208)
		ql, qh, sc := b[:128], b[128:192], b[192:208]
		blk := make([]float64, 256)
		for n := range 2 {
			for l := range 32 {
				is := 8*n + l/16
				q1 := int(ql[64*n+l]&0xf|(qh[32*n+l]&3)<<4) - 32
				q2 := int(ql[64*n+l+32]&0xf|((qh[32*n+l]>>2)&3)<<4) - 32
				q3 := int(ql[64*n+l]>>4|((qh[32*n+l]>>4)&3)<<4) - 32
				q4 := int(ql[64*n+l+32]>>4|((qh[32*n+l]>>6)&3)<<4) - 32
				blk[128*n+l] = d * float64(int8(sc[is])) * float64(q1)
				blk[128*n+l+32] = d * float64(int8(sc[is+2])) * float64(q2)
				blk[128*n+l+64] = d * float64(int8(sc[is+4])) * float64(q3)
				blk[128*n+l+96] = d * float64(int8(sc[is+6])) * float64(q4)
			}
		}
		y = append(y, blk...)
	case IQ4_XS:
		d := f16At(b, 0)
		sh := binary.LittleEndian.Uint16(b[2:])
		for ib := range 8 {
			ls := int(b[4+ib/2]>>(4*(ib%2)))&0xf | int((sh>>(2*ib))&3)<<4
			dl := d * float64(ls-32)
			qs := b[8+16*ib : 8+16*ib+16]
			lo, hi := make([]float64, 16), make([]float64, 16)
			for j, v := range qs {
				lo[j], hi[j] = dl*float64(iq4Values[v&0xf]), dl*float64(iq4Values[v>>4])
			}
			y = append(append(y, lo...), hi...)
		}
	default:
		panic("no reference decoder for " + t.String())
	}
	return y
}

// scaleFields lists the byte offsets of a block's F16 scales and mins.
func scaleFields(t DType) []int {
	switch t {
	case Q4_1, Q5_1, Q4_K, Q5_K:
		return []int{0, 2}
	case Q2_K:
		return []int{80, 82}
	case Q3_K:
		return []int{108}
	case Q6_K:
		return []int{208}
	}
	return []int{0}
}

// randQuant fills data with random blocks of quantized type t: arbitrary
// bytes but finite, positive F16 scales of a size typical of model weights.
func randQuant(r *rand.Rand, t DType, data []byte) {
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	bb := t.RowBytes(t.BlockSize())
	for b := 0; b < len(data); b += bb {
		for _, off := range scaleFields(t) {
			binary.LittleEndian.PutUint16(data[b+off:], F32ToF16(float32(r.ExpFloat64()*0.002)))
		}
	}
}

// quantTypes lists every quantized type.
var quantTypes = []DType{Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS}
