package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// q4KScaleBytes unpacks the 12 bytes of 6-bit scales and mins of the Q4_K
// block at row into bytes 0-7 (scales) and 8-15 (mins) of every 16-byte
// lane of dst, without general-purpose registers.
func q4KScaleBytes(row GPVirtual, dst VecVirtual) {
	// p[0..11] are the packed bytes. Scale j < 4 is p[j]&63, min j < 4
	// p[j+4]&63; scale j >= 4 is p[j+4]&15 | p[j-4]>>6<<4, min j >= 4
	// p[j+4]>>4 | p[j]>>6<<4.
	lo := []int{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11}
	hi := []int{-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7}
	lane := func(name string, v []int) Mem {
		return bytes64(name, func(i int) byte {
			if v[i%16] < 0 {
				return 0x80
			}
			return byte(v[i%16])
		})
	}
	p, a, n, b := ZMM(), ZMM(), ZMM(), ZMM()
	VBROADCASTI32X4(Mem{Base: row, Disp: 4}, p)
	VPSHUFB(lane("q4kScaleLo", lo), p, a)
	VPSRLW(U8(4), a, n)
	VPANDD(lane("q4kHighNibble", []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15}), n, n)
	VPANDD(lane("q4kLowBits", []int{63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0}), a, a)
	VPORD(n, a, a)
	VPSHUFB(lane("q4kScaleHi", hi), p, b)
	VPSRLW(U8(2), b, b) // bits 6, 7 to bits 4, 5
	VPANDD(lane("q4kTopBits", []int{0, 0, 0, 0, 48, 48, 48, 48, 0, 0, 0, 0, 48, 48, 48, 48}), b, b)
	VPORD(b, a, dst)
}

// wordPicks returns VPSHUFB indices that widen, into each 16-bit word
// (byte i its low byte), the unsigned byte f(i) of the word's 16-byte lane.
func wordPicks(name string, f func(i int) int) Mem {
	return bytes64(name, func(i int) byte {
		if i%2 == 1 {
			return 0x80
		}
		return byte(f(i))
	})
}

// kvnni is a 256-value-block type with AVX-512 VNNI tiles.
type kvnni struct {
	name  string // as in the function names: Q4K, Q6K
	bytes int    // block bytes
	d     int    // offset of the F16 scale d (then dmin, with mins)
	mins  bool   // mins as Q4_K's, one per 32 values
	bias  int    // offset of the stored codes (32 for Q6_K), or 0
	// row emits the per-block setup of the block at row and returns the
	// emitter of its chunk j of 64 values: their codes (unsigned bytes)
	// and the int16 scales of the int32 lanes, and with mins the words of
	// min l in both words of lane l (twice).
	row func(row GPVirtual, nib VecVirtual) (chunk func(j int) (w, s VecVirtual), mn VecVirtual)
}

// kvnniTypes lists the types with VNNI tiles.
var kvnniTypes = []kvnni{
	{name: "Q4K", bytes: 144, d: 0, mins: true, row: q45KRow(false)},
	{name: "Q5K", bytes: 176, d: 0, mins: true, row: q45KRow(true)},
	{name: "Q6K", bytes: 210, d: 208, bias: 32, row: q6KRow},
}

// halfShifts returns VPSRLVW/VPSLLVW counts of a in the words of the low
// 32 bytes and b above.
func halfShifts(a, b int) Mem {
	return bytes64(fmt.Sprintf("halfShifts%d%d", a, b), func(i int) byte {
		switch {
		case i%2 == 1:
			return 0
		case i < 32:
			return byte(a)
		}
		return byte(b)
	})
}

// q45KRow returns kvnni.row of Q4_K (q5 false) or Q5_K: chunk j is the 32
// code bytes at 16+32j (Q5_K: 48+32j), low nibbles then high ones (scales
// 2j and 2j+1); Q5_K adds bits 2j and 2j+1 of its 32 high-bit bytes at 16
// as bit 4.
func q45KRow(q5 bool) func(row GPVirtual, nib VecVirtual) (func(j int) (w, s VecVirtual), VecVirtual) {
	return func(row GPVirtual, nib VecVirtual) (func(j int) (w, s VecVirtual), VecVirtual) {
		sb, mn := ZMM(), ZMM()
		q4KScaleBytes(row, sb)
		VPSHUFB(wordPicks("q4kMinPairs", func(i int) int { return 8 + i%16/4 + 4*(i/16%2) }), sb, mn)
		return func(j int) (w, s VecVirtual) {
			w, s = ZMM(), ZMM()
			qs := 16
			if q5 {
				qs = 48
			}
			VBROADCASTI64X4(Mem{Base: row, Disp: qs + 32*j}, w)
			VPSRLVW(halfShifts(0, 4), w, w)
			VPANDD(nib, w, w)
			if q5 {
				// Bits 2j, 2j+1 to bit 4 (see highBits for why word
				// shifts suffice).
				h := ZMM()
				VBROADCASTI64X4(Mem{Base: row, Disp: 16}, h)
				if b := 2 * j; b < 4 {
					VPSLLVW(halfShifts(4-b, 3-b), h, h)
				} else {
					VPSRLVW(halfShifts(b-4, b-3), h, h)
				}
				VPANDD(vecConst("bit4", 0x10101010), h, h)
				VPORD(h, w, w)
			}
			VPSHUFB(wordPicks(fmt.Sprintf("q4kScales%d", j), func(i int) int { return 2*j + i/32 }), sb, s)
			return w, s
		}, mn
	}
}

// q6KRow is kvnni.row of Q6_K: chunk j takes nibble j%2 of the 64 low-part
// bytes at 64*(j/2) and, per 32 values, two bits of the 32 high-part bytes
// at 128+32*(j/2); its 16-byte lane k has the signed scale of group 4j+k.
func q6KRow(row GPVirtual, nib VecVirtual) (func(j int) (w, s VecVirtual), VecVirtual) {
	sb := ZMM()
	VBROADCASTI32X4(Mem{Base: row, Disp: 192}, sb)
	return func(j int) (w, s VecVirtual) {
		w, h, s := ZMM(), ZMM(), ZMM()
		VMOVDQU64(Mem{Base: row, Disp: 64 * (j / 2)}, w)
		if j%2 == 1 {
			VPSRLW(U8(4), w, w)
		}
		VPANDD(nib, w, w)
		VBROADCASTI64X4(Mem{Base: row, Disp: 128 + 32*(j/2)}, h)
		if j%2 == 0 { // bits 0,1 and 2,3 to bits 4,5
			VPSLLVW(halfShifts(4, 2), h, h)
		} else { // bits 4,5 and 6,7 to bits 4,5
			VPSRLVW(halfShifts(0, 2), h, h)
		}
		VPANDD(vecConst("bits45", 0x30303030), h, h)
		VPORD(h, w, w)
		// The scale byte in the high byte of each word, then shifted down
		// with its sign.
		VPSHUFB(bytes64(fmt.Sprintf("q6kScales%d", j), func(i int) byte {
			if i%2 == 0 {
				return 0x80
			}
			return byte(4*j + i/16)
		}), sb, s)
		VPSRAW(U8(8), s, s)
		return w, s
	}, nil
}

// kVNNI generates the R×C tile of type t with AVX-512 (VNNI's VPDPWSSD):
// per 64 values, the codes times the activations with VPMADDUBSW (less
// bias times the activations' pair sums), summed in pairs times the
// values' scales with VPDPWSSD, so that int32 lanes l and l+8 hold the
// sums of lane l of the order of reduce.go; the two halves are added,
// then scaled in float as the AVX2 tiles do, two inputs per register.
func kVNNI(t kvnni, R, C int) {
	name := fmt.Sprintf("dot%sx%dx%dVNNI", t.name, R, C)
	G := (C + 1) / 2 // inputs c=2g and 2g+1 share a register
	biasOff, frame := 128*G, 128*G
	if t.bias != 0 {
		frame += 256 * C
	}
	// Frames past the linker's nosplit limit get the stack check.
	rows, cols, nb := tilePrologue(name, R, C, t.name+" weights times Q8K", frame > 512)
	st := AllocLocal(frame)
	nib := ZMM()
	VMOVDQU64(vecConst("nibbles", 0x0f0f0f0f), nib)
	acc := make([][]VecVirtual, R)
	for r := range acc {
		acc[r] = make([]VecVirtual, G)
		for g := range acc[r] {
			acc[r][g] = ZMM()
			VPXORD(acc[r][g], acc[r][g], acc[r][g])
		}
	}
	Label(name + "_loop")
	TESTQ(nb, nb)
	JZ(LabelRef(name + "_end"))
	// Per pair of inputs: their scales dx (8 lanes each), then their 16
	// group sums, on the stack; with a bias, each input's pair sums of
	// bias times its values.
	for g := range G {
		c0, c1 := 2*g, min(2*g+1, C-1)
		dz := ZMM()
		VBROADCASTSS(Mem{Base: cols[c0], Disp: q8kScale}, dz)
		xz := ZMM()
		VMOVDQU32(Mem{Base: cols[c0], Disp: q8kSums}, xz.AsY())
		if c1 != c0 {
			d1 := YMM()
			VBROADCASTSS(Mem{Base: cols[c1], Disp: q8kScale}, d1)
			VINSERTF64X4(U8(1), d1, dz, dz)
			VINSERTI64X4(U8(1), Mem{Base: cols[c1], Disp: q8kSums}, xz, xz)
		}
		VMOVUPS(dz, st.Offset(128*g))
		VMOVDQU64(xz, st.Offset(128*g+64))
	}
	if t.bias != 0 {
		b := ZMM()
		VMOVDQU64(vecConst(fmt.Sprintf("bytes%d", t.bias), 0x01010101*uint32(t.bias)), b)
		for c := range C {
			for j := range 4 {
				u := ZMM()
				VPMADDUBSW(Mem{Base: cols[c], Disp: 64 * j}, b, u)
				VMOVDQU64(u, st.Offset(biasOff+256*c+64*j))
			}
		}
	}
	for r := range R {
		d, dm, h := ZMM(), ZMM(), YMM()
		chunk, mn := t.row(rows[r], nib)
		VPBROADCASTW(Mem{Base: rows[r], Disp: t.d}, h)
		VCVTPH2PS(h, d)
		if t.mins {
			VPBROADCASTW(Mem{Base: rows[r], Disp: t.d + 2}, h)
			VCVTPH2PS(h, dm)
		}
		isum := make([]VecVirtual, C)
		for j := range 4 {
			w, s := chunk(j)
			for c := range C {
				p := ZMM()
				VPMADDUBSW(Mem{Base: cols[c], Disp: 64 * j}, w, p)
				if t.bias != 0 {
					VPSUBW(st.Offset(biasOff+256*c+64*j), p, p)
				}
				if j == 0 {
					isum[c] = ZMM()
					VPMADDWD(s, p, isum[c])
				} else {
					vnniOp("VPDPWSSD", s, p, isum[c])
				}
			}
		}
		for g := range G {
			c0, c1 := 2*g, 2*g+1
			dx, xs := st.Offset(128*g), st.Offset(128*g+64)
			a, sc, m := ZMM(), ZMM(), ZMM()
			// A pair of inputs in a ZMM register, a single one in the low
			// YMM half.
			as, ss, ms, accs, ds, dms, mns := Register(a), Register(sc), Register(m), Register(acc[r][g]), Register(d), Register(dm), Register(mn)
			if c1 < C {
				hi := ZMM()
				VSHUFI64X2(U8(0x44), isum[c1], isum[c0], a)
				VSHUFI64X2(U8(0xee), isum[c1], isum[c0], hi)
				VPADDD(hi, a, a)
			} else {
				hi := YMM()
				as, ss, ms, accs, ds, dms = a.AsY(), sc.AsY(), m.AsY(), acc[r][g].AsY(), d.AsY(), dm.AsY()
				if mn != nil {
					mns = mn.AsY()
				}
				VEXTRACTI64X4(U8(1), isum[c0], hi)
				VPADDD(hi, isum[c0].AsY(), as)
			}
			VCVTDQ2PS(as, as)
			VMULPS(dx, ds, ss)
			VFMADD231PS(ss, as, accs)
			if t.mins {
				VPMADDWD(xs, mns, ms)
				VCVTDQ2PS(ms, ms)
				VMULPS(dx, dms, ss)
				VFNMADD231PS(ss, ms, accs)
			}
		}
	}
	for _, r := range rows {
		ADDQ(U32(t.bytes), r)
	}
	for _, c := range cols {
		ADDQ(U32(q8kBytes), c)
	}
	DECQ(nb)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_end")
	// Input 2g's sums are in the low half of acc[r][g], 2g+1's above.
	out, os := param("out"), param("ostride")
	upper := make([]VecVirtual, R)
	for c := range C {
		if c > 0 {
			ADDQ(os, out)
		}
		for r := range R {
			a := acc[r][c/2]
			if c%2 == 0 && c+1 < C {
				upper[r] = YMM()
				VEXTRACTF64X4(U8(1), a, upper[r])
			}
			y := a.AsY()
			if c%2 == 1 {
				y = upper[r]
			}
			VMOVSS(reduce8(avx512, y), Mem{Base: out, Disp: 4 * r})
		}
	}
	ret()
}
