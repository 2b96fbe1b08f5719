package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const floatSig = "func(w *byte, wstride uintptr, x *float32, xstride uintptr, k int, tail *float32, out *float32, ostride uintptr)"

// floatKernel generates the R×C dot-product tile for weights of type t: 16
// lanes per output (one ZMM or two YMM accumulators), a fused multiply-add
// per lane and step, then the halving reduction.
func floatKernel(s isa, t wtype, R, C int) {
	name := fmt.Sprintf("dot%sx%dx%d%s", t, R, C, s)
	function(name, floatSig, fmt.Sprintf("%s computes a %d×%d tile of %s weights times float32 inputs (see floatKern).", name, R, C, t))

	rows := pointers(param("w"), param("wstride"), R)
	cols := pointers(param("x"), param("xstride"), C)
	k := param("k")
	idx := GP64()
	XORQ(idx, idx)
	acc := zeroAcc(s, R, C, 16/s.width())

	Label(name + "_loop")
	CMPQ(idx, k)
	JAE(LabelRef(name + "_tail"))
	floatStep(s, t, acc,
		func(r, h int) Mem {
			return Mem{Base: rows[r], Index: idx, Scale: uint8(t.size()), Disp: h * s.width() * t.size()}
		},
		func(c, h int) Mem { return Mem{Base: cols[c], Index: idx, Scale: 4, Disp: h * s.width() * 4} })
	ADDQ(U8(16), idx)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	tp := param("tail")
	TESTQ(tp, tp)
	JZ(LabelRef(name + "_reduce"))
	floatStep(s, f32, acc,
		func(r, h int) Mem { return Mem{Base: tp, Disp: 64*r + 4*s.width()*h} },
		func(c, h int) Mem { return Mem{Base: tp, Disp: 64*(R+c) + 4*s.width()*h} })

	Label(name + "_reduce")
	storeTile(s, acc)
}

// pointers returns n registers holding base, base+stride, base+2*stride, ...
func pointers(base, stride GPVirtual, n int) []GPVirtual {
	p := []GPVirtual{base}
	for i := 1; i < n; i++ {
		q := GP64()
		LEAQ(Mem{Base: p[i-1], Index: stride, Scale: 1}, q)
		p = append(p, q)
	}
	return p
}

// floatStep does one 16-value step of every accumulator: row values (type
// t) at row(r, h) and input values at col(c, h) for register half h.
func floatStep(s isa, t wtype, acc [][][]VecVirtual, row func(r, h int) Mem, col func(c, h int) Mem) {
	R, C := len(acc), len(acc[0])
	for h := range acc[0][0] {
		w := make([]VecVirtual, R)
		for r := range w {
			w[r] = s.vec()
			loadWiden(t, row(r, h), w[r])
		}
		for c := 0; c < C; c++ {
			x := s.vec()
			VMOVUPS(col(c, h), x)
			for r := 0; r < R; r++ {
				VFMADD231PS(x, w[r], acc[r][c][h])
			}
		}
	}
}

const floatRowsSig = "func(w *byte, wstride uintptr, x *float32, k int, rows int, out *float32)"

// floatRowsKernel generates a matrix-vector loop over rows one at a time
// (out[i] = row i · x, rows wstride bytes apart, k a multiple of 16), with
// the 1×1 tile's body and reduction: the same bits, without a call per row.
func floatRowsKernel(s isa, t wtype) {
	name := fmt.Sprintf("dot%sRows%s", t, s)
	function(name, floatRowsSig, fmt.Sprintf("%s computes rows dot products of %s rows with one float32 input, one row at a time (see floatRows).", name, t))
	w, ws, x := param("w"), param("wstride"), param("x")
	k, rows, out := param("k"), param("rows"), param("out")

	rowLoop(name, "_row", rows, w, ws, out, func() {
		acc := zeroAcc(s, 1, 1, 16/s.width())
		idx := GP64()
		XORQ(idx, idx)
		Label(name + "_loop")
		CMPQ(idx, k)
		JAE(LabelRef(name + "_reduce"))
		floatStep(s, t, acc,
			func(_, h int) Mem {
				return Mem{Base: w, Index: idx, Scale: uint8(t.size()), Disp: h * s.width() * t.size()}
			},
			func(_, h int) Mem { return Mem{Base: x, Index: idx, Scale: 4, Disp: h * s.width() * 4} })
		ADDQ(U8(16), idx)
		JMP(LabelRef(name + "_loop"))

		Label(name + "_reduce")
		VMOVSS(reduce16(s, acc[0][0]), Mem{Base: out})
	})
}

const floatPanelSig = "func(w *byte, wstride uintptr, x *float32, xstride uintptr, k int, rows int, out *float32, ostride uintptr, acc *float32, mode int)"

// floatPanelKernel generates a loop of R×C tiles (s.floatPanel) of
// weights of type t down rows rows (a multiple of R) with the same C inputs, over k
// values (a positive multiple of 16) that may be one block of a longer
// dot product. Each tile's unreduced accumulators start at zero (mode bit
// 1) or are read from acc, and are then reduced into out (mode bit 2) or
// written back to acc; acc holds R×C×16 floats per tile. Spilling the
// lanes between blocks keeps the tile kernel's bits.
func floatPanelKernel(s isa, t wtype) {
	R, C := s.floatPanel()
	name := fmt.Sprintf("dot%sPanel%dx%d%s", t, R, C, s)
	function(name, floatPanelSig, fmt.Sprintf("%s computes %d×%d tiles of %s weights times float32 inputs down rows rows (see floatPanel).", name, R, C, t))
	w, ws := param("w"), param("wstride")
	cols := pointers(param("x"), param("xstride"), C)
	k, rows, out, os, accp := param("k"), param("rows"), param("out"), param("ostride"), param("acc")
	mode, err := Param("mode").Resolve()
	if err != nil {
		panic(err)
	}
	halves := 16 / s.width()
	vbytes := 4 * s.width()
	slot := func(r, c, h int) Mem { return Mem{Base: accp, Disp: ((r*C+c)*halves + h) * vbytes} }

	Label(name + "_tile")
	acc := newAcc(s, R, C, halves)
	forAcc := func(f func(v VecVirtual, m Mem)) {
		for r := range acc {
			for c := range acc[r] {
				for h, v := range acc[r][c] {
					f(v, slot(r, c, h))
				}
			}
		}
	}
	TESTQ(U32(1), mode.Addr)
	JZ(LabelRef(name + "_load"))
	forAcc(func(v VecVirtual, _ Mem) { s.zero(v) })
	JMP(LabelRef(name + "_run"))
	Label(name + "_load")
	forAcc(func(v VecVirtual, m Mem) { VMOVUPS(m, v) })
	Label(name + "_run")
	rp := pointers(w, ws, R)
	idx := GP64()
	XORQ(idx, idx)
	alignLoop()
	Label(name + "_loop")
	floatStep(s, t, acc,
		func(r, h int) Mem {
			return Mem{Base: rp[r], Index: idx, Scale: uint8(t.size()), Disp: h * s.width() * t.size()}
		},
		func(c, h int) Mem { return Mem{Base: cols[c], Index: idx, Scale: 4, Disp: h * vbytes} })
	ADDQ(U8(16), idx)
	CMPQ(idx, k)
	JB(LabelRef(name + "_loop"))

	TESTQ(U32(2), mode.Addr)
	JNZ(LabelRef(name + "_reduce"))
	forAcc(func(v VecVirtual, m Mem) { VMOVUPS(v, m) })
	JMP(LabelRef(name + "_next"))
	Label(name + "_reduce")
	o := GP64()
	MOVQ(out, o)
	for c := range acc[0] {
		if c > 0 {
			ADDQ(os, o)
		}
		for r := range acc {
			VMOVSS(reduce16(s, acc[r][c]), Mem{Base: o, Disp: 4 * r})
		}
	}
	Label(name + "_next")
	LEAQ(Mem{Base: w, Index: ws, Scale: uint8(R)}, w)
	ADDQ(U8(4*R), out)
	ADDQ(U32(R*C*16*4), accp)
	SUBQ(U8(R), rows)
	JNZ(LabelRef(name + "_tile"))
	ret()
}
