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

// q4KVNNI generates an R×C Q4_K tile with AVX-512 (VNNI's VPDPWSSD): per
// 64 values, the codes (VPSRLVW brings the high nibbles of the 32 bytes
// down in the upper half) times the activations with VPMADDUBSW, summed
// in pairs times the two 32-value scales with VPDPWSSD, so that int32 lane
// l and l+8 hold the sums of lane l of the order of reduce.go; the two
// halves are added, then scaled in float as dotQ4K's AVX2 tiles do, two
// inputs per register.
func q4KVNNI(R, C int) {
	name := fmt.Sprintf("dotQ4Kx%dx%dVNNI", R, C)
	rows, cols, nb := tilePrologue(name, R, C, "Q4K weights times Q8K")
	G := (C + 1) / 2 // inputs c=2g and 2g+1 share a register
	st := AllocLocal(128 * G)
	nib, shr := ZMM(), ZMM()
	VMOVDQU64(vecConst("nibbles", 0x0f0f0f0f), nib)
	VMOVDQU64(nibbleShifts(32), shr)
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
	// group sums, on the stack.
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
	for r := range R {
		sb, d, dm, mn, h := ZMM(), ZMM(), ZMM(), ZMM(), YMM()
		q4KScaleBytes(rows[r], sb)
		VPBROADCASTW(Mem{Base: rows[r]}, h)
		VCVTPH2PS(h, d)
		VPBROADCASTW(Mem{Base: rows[r], Disp: 2}, h)
		VCVTPH2PS(h, dm)
		// Both words of int32 lane l (of 8, twice) take min l.
		VPSHUFB(wordPicks("q4kMinPairs", func(i int) int { return 8 + i%16/4 + 4*(i/16%2) }), sb, mn)
		isum := make([]VecVirtual, C)
		for j := range 4 {
			w, s := ZMM(), ZMM()
			VBROADCASTI64X4(Mem{Base: rows[r], Disp: 16 + 32*j}, w)
			VPSRLVW(shr, w, w)
			VPANDD(nib, w, w)
			VPSHUFB(wordPicks(fmt.Sprintf("q4kScales%d", j), func(i int) int { return 2*j + i/32 }), sb, s)
			for c := range C {
				t := ZMM()
				VPMADDUBSW(Mem{Base: cols[c], Disp: 64 * j}, w, t)
				if j == 0 {
					isum[c] = ZMM()
					VPMADDWD(s, t, isum[c])
				} else {
					vnniOp("VPDPWSSD", s, t, isum[c])
				}
			}
		}
		for g := range G {
			c0, c1 := 2*g, 2*g+1
			dx, xs := st.Offset(128*g), st.Offset(128*g+64)
			a, sc, m := ZMM(), ZMM(), ZMM()
			if c1 < C {
				hi := ZMM()
				VSHUFI64X2(U8(0x44), isum[c1], isum[c0], a)
				VSHUFI64X2(U8(0xee), isum[c1], isum[c0], hi)
				VPADDD(hi, a, a)
				VCVTDQ2PS(a, a)
				VMULPS(dx, d, sc)
				VFMADD231PS(sc, a, acc[r][g])
				VPMADDWD(xs, mn, m)
				VCVTDQ2PS(m, m)
				VMULPS(dx, dm, sc)
				VFNMADD231PS(sc, m, acc[r][g])
				continue
			}
			hi, y, ay := YMM(), a.AsY(), acc[r][g].AsY()
			VEXTRACTI64X4(U8(1), isum[c0], hi)
			VPADDD(hi, isum[c0].AsY(), y)
			VCVTDQ2PS(y, y)
			VMULPS(dx, d.AsY(), sc.AsY())
			VFMADD231PS(sc.AsY(), y, ay)
			VPMADDWD(xs, mn.AsY(), m.AsY())
			VCVTDQ2PS(m.AsY(), m.AsY())
			VMULPS(dx, dm.AsY(), sc.AsY())
			VFNMADD231PS(sc.AsY(), m.AsY(), ay)
		}
	}
	for _, r := range rows {
		ADDQ(U32(144), r)
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
