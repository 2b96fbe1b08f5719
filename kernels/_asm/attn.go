package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// attnAccumKernel generates the value update of one attention head:
// acc[i] = acc[i]*alpha, then acc[i] = fma(p[t], v[t][i], acc[i]) for each
// token t in order. d must be a multiple of the register width.
func attnAccumKernel(s isa) {
	name := fmt.Sprintf("attnAccum%s", s)
	function(name, "func(acc *float32, p *float32, v *float32, vstride uintptr, n int, d int, alpha float32)",
		fmt.Sprintf("%s scales acc (d values) by alpha and adds p[t]*v[t] for n tokens, in token order.", name))
	acc, p, v, vs, n, d := param("acc"), param("p"), param("v"), param("vstride"), param("n"), param("d")
	alpha := broadcastParam(s, "alpha")
	SHLQ(U8(2), d) // bytes
	off := GP64()
	XORQ(off, off)
	bytes := 4 * s.width()
	for _, u := range []int{8, 4, 2, 1} {
		lbl := fmt.Sprintf("%s_g%d", name, u)
		done := fmt.Sprintf("%s_g%d_done", name, u)
		Label(lbl)
		rem := GP64()
		MOVQ(d, rem)
		SUBQ(off, rem)
		CMPQ(rem, U32(u*bytes))
		JB(LabelRef(done))
		a := make([]VecVirtual, u)
		for j := range a {
			a[j] = s.vec()
			VMULPS(Mem{Base: acc, Index: off, Scale: 1, Disp: j * bytes}, alpha, a[j])
		}
		tp, vp, cnt := GP64(), GP64(), GP64()
		MOVQ(p, tp)
		LEAQ(Mem{Base: v, Index: off, Scale: 1}, vp)
		MOVQ(n, cnt)
		Label(lbl + "_t")
		TESTQ(cnt, cnt)
		JZ(LabelRef(lbl + "_store"))
		pb := s.vec()
		VBROADCASTSS(Mem{Base: tp}, pb)
		for j := range a {
			VFMADD231PS(Mem{Base: vp, Disp: j * bytes}, pb, a[j])
		}
		ADDQ(U8(4), tp)
		ADDQ(vs, vp)
		DECQ(cnt)
		JMP(LabelRef(lbl + "_t"))
		Label(lbl + "_store")
		for j := range a {
			VMOVUPS(a[j], Mem{Base: acc, Index: off, Scale: 1, Disp: j * bytes})
		}
		ADDQ(U32(u*bytes), off)
		JMP(LabelRef(lbl))
		Label(done)
	}
	ret()
}

// attnScoresKernel generates the raw attention scores of one key/value head
// for head dimension d (fixed): out[h*16+t] = q_h · k_t for every query head
// h < heads and token t < n, each dot in the order of reduce.go. Each key
// row is loaded (and widened) once for all heads.
func attnScoresKernel(s isa, t wtype, d int) {
	name := fmt.Sprintf("attnScores%sD%d%s", t, d, s)
	function(name, "func(q *float32, heads int, k *byte, kstride uintptr, n int, out *float32)",
		fmt.Sprintf("%s computes out[h*16+t] = q[h*%d:] · k_t for %s keys of %d values.", name, d, t, d))
	q, heads, k, ks, n, out := param("q"), param("heads"), param("k"), param("kstride"), param("n"), param("out")
	regs := d / s.width()
	halves := 16 / s.width()
	kr := make([]VecVirtual, regs)
	rowLoop(name, "_token", n, k, ks, out, func() {
		for j := range kr {
			kr[j] = s.vec()
			loadWiden(t, Mem{Base: k, Disp: j * s.width() * t.size()}, kr[j])
		}
		qp, h, op := GP64(), GP64(), GP64()
		MOVQ(q, qp)
		MOVQ(heads, h)
		MOVQ(out, op)
		Label(name + "_head")
		// Zero then fused steps, not a first multiply: fma(a, b, +0) and a*b
		// differ in the sign of a zero product.
		acc := zeroAcc(s, 1, 1, halves)[0][0]
		for j := range kr {
			VFMADD231PS(Mem{Base: qp, Disp: 4 * s.width() * j}, kr[j], acc[j%halves])
		}
		VMOVSS(reduce16(s, acc), Mem{Base: op})
		ADDQ(U32(4*d), qp)
		ADDQ(U8(4*16), op)
		DECQ(h)
		JNZ(LabelRef(name + "_head"))
	})
}
