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

const floatPanelSig = "func(w *byte, wstride uintptr, x *float32, xstride uintptr, k int, rows int, out *float32, ostride uintptr)"

// floatPanelKernel generates a loop of R×C tiles (s.floatPanel) of F32
// weights down rows rows (a multiple of R) with the same C inputs, k a
// positive multiple of 16: the tile kernel's bits without a call per tile.
func floatPanelKernel(s isa) {
	R, C := s.floatPanel()
	name := fmt.Sprintf("dotF32Panel%dx%d%s", R, C, s)
	function(name, floatPanelSig, fmt.Sprintf("%s computes %d×%d tiles of F32 weights times float32 inputs down rows rows (see floatPanel).", name, R, C))
	w, ws := param("w"), param("wstride")
	cols := pointers(param("x"), param("xstride"), C)
	k, rows, out, os := param("k"), param("rows"), param("out"), param("ostride")
	step := GP64() // bytes from one row tile to the next
	IMUL3Q(U8(R), ws, step)
	Label(name + "_tile")
	acc := zeroAcc(s, R, C, 16/s.width())
	rp := pointers(w, ws, R)
	idx := GP64()
	XORQ(idx, idx)
	Label(name + "_loop")
	floatStep(s, f32, acc,
		func(r, h int) Mem { return Mem{Base: rp[r], Index: idx, Scale: 4, Disp: h * s.width() * 4} },
		func(c, h int) Mem { return Mem{Base: cols[c], Index: idx, Scale: 4, Disp: h * s.width() * 4} })
	ADDQ(U8(16), idx)
	CMPQ(idx, k)
	JB(LabelRef(name + "_loop"))
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
	ADDQ(step, w)
	ADDQ(U8(4*R), out)
	SUBQ(U8(R), rows)
	JNZ(LabelRef(name + "_tile"))
	ret()
}
