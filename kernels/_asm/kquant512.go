package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kquant512Kernels generates the AVX-512 kernels of the 256-value-block
// types.
func kquant512Kernels() {
	q6KRowsAVX512()
}

// wordIndex returns the VPERMW index whose 128-bit lane k selects word
// first+k in all eight of its words.
func wordIndex(first int) Mem {
	name := fmt.Sprintf("wordIndex%d", first)
	if m, ok := consts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i := range 32 {
		DATA(2*i, U16(first+i/8))
	}
	consts[name] = m
	return m
}

// q6KRowsAVX512 generates the Q6_K matrix-vector loop with 512-bit
// registers, one row at a time: each step takes two 32-value runs, and the
// two halves of the 16 lane sums are added into the 8 lanes of the AVX2
// kernel (integer sums, so the float steps stay the same).
func q6KRowsAVX512() {
	name := "dotQ6KRowsAVX512"
	function(name, "func(w *byte, wstride uintptr, a *byte, nb int, rows int, out *float32)",
		name+" computes rows dot products of Q6K rows with one Q8K activation, one row at a time with AVX-512 (see q8Rows).")
	w, ws, a := param("w"), param("wstride"), param("a")
	rows, out := param("rows"), param("out")
	idx := make([]VecVirtual, 4)
	for j := range idx {
		idx[j] = ZMM()
		VMOVDQU64(wordIndex(4*j), idx[j])
	}
	nib, b45, b32 := ZMM(), ZMM(), ZMM()
	VMOVDQU64(vecConst("nibbles", 0x0f0f0f0f), nib)
	VMOVDQU64(vecConst("bits45", 0x30303030), b45)
	VMOVDQU64(vecConst("bytes32", 0x20202020), b32)
	rowLoop(name, "_row", rows, w, ws, out, func() {
		acc := YMM()
		VPXOR(acc, acc, acc)
		wp, ap, nb := GP64(), GP64(), param("nb")
		MOVQ(w, wp)
		MOVQ(a, ap)
		Label(name + "_loop")
		TESTQ(nb, nb)
		JZ(LabelRef(name + "_end"))
		sc := YMM()
		VPMOVSXBW(Mem{Base: wp, Disp: 192}, sc)
		isum := ZMM()
		VPXORQ(isum, isum, isum)
		for j := range 4 {
			n, p := j/2, (2*j)%4
			q := ZMM()
			VMOVDQU64(Mem{Base: wp, Disp: 64 * n}, q)
			if p == 2 {
				VPSRLW(U8(4), q, q)
			}
			VPANDD(nib, q, q)
			h, lo, hi := YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: wp, Disp: 128 + 32*n}, h)
			if p == 0 { // bits 0,1 and 2,3 to bits 4,5
				VPSLLW(U8(4), h, lo)
				VPSLLW(U8(2), h, hi)
			} else { // bits 4,5 and 6,7 to bits 4,5
				VMOVDQA(h, lo)
				VPSRLW(U8(2), h, hi)
			}
			hz := ZMM()
			VINSERTI64X4(U8(1), hi, lo.AsZ(), hz)
			VPANDD(b45, hz, hz)
			VPORD(hz, q, q) // unsigned 6-bit values; minus 32 below
			x := ZMM()
			VMOVDQU64(Mem{Base: ap, Disp: 64 * j}, x)
			t, t2, s := ZMM(), ZMM(), ZMM()
			VPMADDUBSW(x, q, t)
			VPMADDUBSW(x, b32, t2)
			VPSUBW(t2, t, t)
			VPERMW(sc.AsZ(), idx[j], s)
			VPMADDWD(s, t, t)
			VPADDD(t, isum, isum)
		}
		hiSum := YMM()
		VEXTRACTI64X4(U8(1), isum, hiSum)
		sum := YMM()
		VPADDD(hiSum, isum.AsY(), sum)
		dx, d, f := YMM(), YMM(), YMM()
		VBROADCASTSS(Mem{Base: ap, Disp: q8kScale}, dx)
		halfScale(wp, 208, dx, d)
		VCVTDQ2PS(sum, f)
		VFMADD231PS(d, f, acc)
		ADDQ(U32(210), wp)
		ADDQ(U32(q8kBytes), ap)
		DECQ(nb)
		JMP(LabelRef(name + "_loop"))
		Label(name + "_end")
		VMOVSS(reduce8(avx2, acc), Mem{Base: out})
	})
}
