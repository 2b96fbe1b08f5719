package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
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

// quantQ8Kernel generates quantizeQ8AVX512, quantizeActQ8 with AVX-512:
// per 32-value block the same largest magnitude (the last NaN if there is
// one), scale and inverse, values rounded as roundQ8 does, corrections
// and scales, and the unused half of an odd last pair cleared.
func quantQ8Kernel() {
	name := "quantizeQ8AVX512"
	function(name, "func(dst *byte, x *float32, nb int)",
		name+" quantizes nb blocks of 32 values at x into Q8 activations at dst as quantizeActQ8 does.")
	dst, x, nb := param("dst"), param("x"), param("nb")
	abs, c127, zero := ZMM(), ZMM(), ZMM()
	VMOVDQU64(vecConst("q8kAbs", 0x7fffffff), abs)
	VMOVUPS(f32Const("q8kMax", 127), c127)
	VPXORD(zero, zero, zero)
	// block quantizes the block at x+xo into half h of the pair at dst;
	// n tells the emitted copies apart.
	block := func(xo, h, n int) {
		tag := fmt.Sprintf("%s_b%d", name, n)
		z := []VecVirtual{ZMM(), ZMM()}
		a := []VecVirtual{ZMM(), ZMM()}
		for i := range z {
			VMOVUPS(Mem{Base: x, Disp: xo + 64*i}, z[i])
			VPANDD(z[i], abs, a[i])
		}
		m, y, t := ZMM(), YMM(), XMM()
		VPMAXUD(a[0], a[1], m)
		VEXTRACTI64X4(U8(1), m, y)
		VPMAXUD(y, m.AsY(), y)
		VEXTRACTI32X4(U8(1), y, t)
		VPMAXUD(t, y.AsX(), t)
		for _, sh := range []int{0x4e, 0xb1} {
			u := XMM()
			VPSHUFD(U8(sh), t, u)
			VPMAXUD(u, t, t)
		}
		ab := GP32()
		VMOVD(t, ab)
		CMPL(ab, U32(0x7f800000))
		JBE(LabelRef(tag + "_amax"))
		// A NaN: quantizeActQ8 keeps the last one's magnitude.
		nan, k0, k1, g, g1 := ZMM(), K(), K(), GP32(), GP32()
		VPBROADCASTD(vecConst("q8Inf", 0x7f800000), nan)
		VPCMPUD(U8(6), nan, a[0], k0) // greater than infinity
		VPCMPUD(U8(6), nan, a[1], k1)
		KMOVW(k0, g)
		KMOVW(k1, g1)
		SHLL(U8(16), g1)
		ORL(g1, g)
		BSRL(g, g)
		MOVL(Mem{Base: x, Disp: xo, Index: g.As64(), Scale: 4}, ab)
		ANDL(U32(0x7fffffff), ab)
		Label(tag + "_amax")
		d, id := XMM(), XMM()
		VMOVD(ab, d)
		VDIVSS(f32Const("q8kMax", 127), d, d)
		VXORPS(id, id, id)
		db := GP32()
		VMOVD(d, db)
		TESTL(db, db) // d = 0, also where amax/127 underflows
		JZ(LabelRef(tag + "_scaled"))
		VMOVSS(f32Const("one", 1), id)
		VDIVSS(d, id, id)
		Label(tag + "_scaled")
		idz := ZMM()
		VBROADCASTSS(id, idz)
		for i := range z {
			f, q, s := ZMM(), ZMM(), ZMM()
			VMULPS(z[i], idz, f)
			VPANDD(f, abs, q)
			VADDPS(f32Const("q8Half", 0.5), q, q)
			VMINPS(q, c127, q) // NaN stays NaN, and converts to 0x80000000
			VCVTTPS2DQ(q, q)
			VPMAXSD(zero, q, q)
			VPSRAD(U8(31), f, s)
			VPXORD(s, q, q)
			VPSUBD(s, q, q)
			VPMOVDB(q, Mem{Base: dst, Disp: 32*h + 16*i})
		}
		v, w := YMM(), YMM()
		VMOVDQU32(Mem{Base: dst, Disp: 32 * h}, v)
		VMOVDQU32(vecConst("q8Ones8", 0x01010101), w)
		VPMADDUBSW(v, w, w) // pairs of the values (signed) times ones
		VPMADDWD(vecConst("ones16", 0x00010001), w, w)
		VPSLLD(U8(7), w, w)
		VPSUBD(w, zero.AsY(), w)
		VMOVDQU32(w, Mem{Base: dst, Disp: 64 + 32*h})
		VPBROADCASTD(d, w)
		VMOVDQU32(w, Mem{Base: dst, Disp: 128 + 32*h})
	}
	Label(name + "_loop")
	CMPQ(nb, U8(2))
	JB(LabelRef(name + "_single"))
	block(0, 0, 0)
	block(128, 1, 1)
	ADDQ(U32(256), x)
	ADDQ(U32(192), dst)
	SUBQ(U8(2), nb)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_single")
	TESTQ(nb, nb)
	JZ(LabelRef(name + "_done"))
	block(0, 0, 2)
	for _, off := range []int{32, 96, 160} {
		VMOVDQU32(zero.AsY(), Mem{Base: dst, Disp: off})
	}
	Label(name + "_done")
	ret()
}
