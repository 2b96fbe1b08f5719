package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kvDequantKernel generates the dequantization of KV cache rows of Q8_0
// (q4 false) or Q4_0 (q4 true) blocks: rows rows of nb blocks at src,
// stride bytes apart, into float32 rows back to back at dst, each value
// d*q with the block's F16 scale d widened exactly and q its integer (for
// Q4_0, nibble - 8): one multiply, the bits of the generic decoder.
func kvDequantKernel(s isa, q4 bool) {
	t, bb := "Q80", 34
	if q4 {
		t, bb = "Q40", 18
	}
	name := fmt.Sprintf("dequantRows%s%s", t, s)
	function(name, "func(dst *float32, src *byte, stride uintptr, rows int, nb int)",
		fmt.Sprintf("%s dequantizes rows rows of nb %s blocks, stride bytes apart, into float32 rows back to back.", name, t))
	dst, src, stride, rows, nb := param("dst"), param("src"), param("stride"), param("rows"), param("nb")
	w := s.width()
	var fifteen, eight VecVirtual
	if q4 {
		fifteen, eight = broadcastInt(s, 15), broadcastInt(s, 8)
	}
	Label(name + "_row")
	TESTQ(rows, rows)
	JZ(LabelRef(name + "_done"))
	p, b := GP64(), GP64()
	MOVQ(src, p)
	MOVQ(nb, b)
	Label(name + "_block")
	d := s.vec()
	if s == avx512 {
		VPBROADCASTW(Mem{Base: p}, d.AsY())
		VCVTPH2PS(d.AsY(), d)
	} else {
		VPBROADCASTW(Mem{Base: p}, d.AsX())
		VCVTPH2PS(d.AsX(), d)
	}
	if q4 {
		// Bytes j..j+w-1 hold values j.. (low nibbles) and 16+j.. (high).
		for j := 0; j < 16; j += w {
			lo, hi := s.vec(), s.vec()
			VPMOVZXBD(Mem{Base: p, Disp: 2 + j}, lo)
			if s == avx512 {
				VPSRLD(U8(4), lo, hi)
				VPANDD(fifteen, lo, lo)
			} else {
				VPSRLD(U8(4), lo, hi)
				VPAND(fifteen, lo, lo)
			}
			for k, v := range []VecVirtual{lo, hi} {
				VPSUBD(eight, v, v)
				VCVTDQ2PS(v, v)
				VMULPS(d, v, v)
				VMOVUPS(v, Mem{Base: dst, Disp: 4 * (16*k + j)})
			}
		}
	} else {
		for j := 0; j < 32; j += w {
			v := s.vec()
			VPMOVSXBD(Mem{Base: p, Disp: 2 + j}, v)
			VCVTDQ2PS(v, v)
			VMULPS(d, v, v)
			VMOVUPS(v, Mem{Base: dst, Disp: 4 * j})
		}
	}
	ADDQ(U8(bb), p)
	ADDQ(U8(4*32), dst)
	DECQ(b)
	JNZ(LabelRef(name + "_block"))
	ADDQ(stride, src)
	DECQ(rows)
	JMP(LabelRef(name + "_row"))
	Label(name + "_done")
	ret()
}

// broadcastInt returns a vector register holding the int32 c in every lane.
func broadcastInt(s isa, c int) VecVirtual {
	r, v := GP32(), s.vec()
	MOVL(U32(c), r)
	if s == avx512 {
		VPBROADCASTD(r, v)
	} else {
		VMOVD(r, v.AsX())
		VPBROADCASTD(v.AsX(), v)
	}
	return v
}
