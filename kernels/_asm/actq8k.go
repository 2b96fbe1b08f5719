package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// quantQ8KKernel generates quantizeQ8KAVX512, quantizeActQ8K with AVX-512:
// the same largest magnitude (the first value that has it), the same
// float32 scale steps, values rounded half to even by VCVTPS2DQ after
// the same clamp at 127, and the same group sums.
func quantQ8KKernel() {
	name := "quantizeQ8KAVX512"
	function(name, "func(dst *byte, x *float32, nb int)",
		name+" quantizes nb blocks of 256 values at x into Q8K activations at dst as quantizeActQ8K does.")
	dst, x, nb := param("dst"), param("x"), param("nb")
	abs, c127 := ZMM(), ZMM()
	VMOVDQU64(vecConst("q8kAbs", 0x7fffffff), abs)
	VMOVUPS(f32Const("q8kMax", 127), c127)
	Label(name + "_loop")
	TESTQ(nb, nb)
	JZ(LabelRef(name + "_done"))
	// The largest magnitude's bits (NaN and infinities above all finite).
	m := ZMM()
	VPXORD(m, m, m)
	for i := range 16 {
		a := ZMM()
		VPANDD(Mem{Base: x, Disp: 64 * i}, abs, a)
		VPMAXUD(a, m, m)
	}
	y, t := YMM(), YMM()
	VEXTRACTI64X4(U8(1), m, y)
	VPMAXUD(y, m.AsY(), y)
	VEXTRACTI32X4(U8(1), y, t.AsX())
	VPMAXUD(t.AsX(), y.AsX(), t.AsX())
	for _, sh := range []int{0x4e, 0xb1} {
		u := XMM()
		VPSHUFD(U8(sh), t.AsX(), u)
		VPMAXUD(u, t.AsX(), t.AsX())
	}
	ab := GP32()
	VMOVD(t.AsX(), ab)
	CMPL(ab, U32(0x7f7fffff))
	JA(LabelRef(name + "_nan"))
	TESTL(ab, ab)
	JZ(LabelRef(name + "_zero"))
	// The first value of that magnitude.
	bm, off, k, g := ZMM(), GP64(), K(), GP32()
	VPBROADCASTD(t.AsX(), bm)
	XORQ(off, off)
	Label(name + "_find")
	a := ZMM()
	VPANDD(Mem{Base: x, Index: off, Scale: 1}, abs, a)
	VPCMPEQD(bm, a, k)
	KMOVW(k, g)
	TESTL(g, g)
	JNZ(LabelRef(name + "_found"))
	ADDQ(U8(64), off)
	JMP(LabelRef(name + "_find"))
	Label(name + "_found")
	TZCNTL(g, g)
	ADDQ(x, off)
	vmax, is, d := XMM(), XMM(), XMM()
	VMOVSS(Mem{Base: off, Index: g.As64(), Scale: 4}, vmax)
	VMOVSS(f32Const("q8kMinus127", -127), is)
	VDIVSS(vmax, is, is)
	VMOVSS(f32Const("one", 1), d)
	VDIVSS(is, d, d)
	isz := ZMM()
	VBROADCASTSS(is, isz)
	for i := range 16 {
		f := ZMM()
		VMULPS(Mem{Base: x, Disp: 64 * i}, isz, f)
		VMINPS(f, c127, f) // NaN (0 times infinity) stays NaN
		VCVTPS2DQ(f, f)
		VPMOVDB(f, Mem{Base: dst, Disp: 16 * i})
	}
	for grp := range 16 {
		z, y, x4, u := ZMM(), YMM(), XMM(), XMM()
		VPMOVSXBD(Mem{Base: dst, Disp: 16 * grp}, z)
		VEXTRACTI64X4(U8(1), z, y)
		VPADDD(y, z.AsY(), y)
		VEXTRACTI32X4(U8(1), y, x4)
		VPADDD(x4, y.AsX(), x4)
		VPSHUFD(U8(0x4e), x4, u)
		VPADDD(u, x4, x4)
		VPSHUFD(U8(0xb1), x4, u)
		VPADDD(u, x4, x4)
		s := GP32()
		VMOVD(x4, s)
		MOVW(s.As16(), Mem{Base: dst, Disp: 256 + 2*grp})
	}
	JMP(LabelRef(name + "_tail"))
	// NaN or infinity: scale NaN, values and sums zero; all zero: scale 0.
	Label(name + "_nan")
	MOVL(U32(0x7fc00000), ab)
	JMP(LabelRef(name + "_clear"))
	Label(name + "_zero")
	XORL(ab, ab)
	Label(name + "_clear")
	zz := ZMM()
	VPXORD(zz, zz, zz)
	for i := range 4 {
		VMOVDQU64(zz, Mem{Base: dst, Disp: 64 * i})
	}
	VMOVDQU32(zz.AsY(), Mem{Base: dst, Disp: 256})
	VMOVD(ab, d)
	Label(name + "_tail")
	VMOVSS(d, Mem{Base: dst, Disp: 288})
	zx := XMM()
	VPXORD(zx, zx, zx)
	VMOVDQU32(zx, Mem{Base: dst, Disp: 292})
	VMOVDQU32(zx, Mem{Base: dst, Disp: 304})
	ADDQ(U32(1024), x)
	ADDQ(U32(320), dst)
	DECQ(nb)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	ret()
}
