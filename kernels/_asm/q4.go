package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// q40Bytes is the size of a Q4_0 block: an F16 scale and 16 bytes of
// 4-bit values.
const q40Bytes = 18

// q40Tiles lists the R×C Q4_0 tiles generated with AVX2.
var q40Tiles = [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}, {4, 1}}

// q40AVX2 generates an R×C Q4_0 tile with AVX2: the unsigned nibbles times
// the Q8 activations with VPMADDUBSW and VPMADDWD, plus -8 times each
// lane's activation sum (the activation's correction shifted right by 4),
// so that each int32 lane holds the dot of 4 values of q-8.
func q40AVX2(R, C int) {
	name := fmt.Sprintf("q40x%dx%dAVX2", R, C)
	function(name, q8Sig, fmt.Sprintf("%s computes a %d×%d tile of Q4_0 weights times Q8 activations with AVX2 (see q8Kern).", name, R, C))
	rows := pointers(param("w"), param("wstride"), R)
	cols := pointers(param("a"), param("astride"), C)
	acc := zeroAcc(avx2, R, C, 2)
	q40Pairs(name, rows, cols, param("nb"), acc)
	storeTile(avx2, acc)
}

// q40Pairs emits the block loop of an R×C Q4_0 tile over nb blocks.
func q40Pairs(name string, rows, cols []GPVirtual, nb GPVirtual, acc [][][]VecVirtual) {
	pairLoop(name, rows, cols, nb, q40Bytes, func(single bool) {
		q40Block(rows, cols, acc, 0)
		if !single {
			q40Block(rows, cols, acc, 1)
		}
	})
}

// q40Block emits block h (0 or 1) of a pair for an R×C Q4_0 tile.
func q40Block(rows, cols []GPVirtual, acc [][][]VecVirtual, h int) {
	xs, cs := make([]VecVirtual, len(cols)), make([]VecVirtual, len(cols))
	for c := range cols {
		xs[c], cs[c] = YMM(), YMM()
		VMOVDQU(Mem{Base: cols[c], Disp: 32 * h}, xs[c])
		VMOVDQU(Mem{Base: cols[c], Disp: pairCorr + 32*h}, cs[c])
		VPSRAD(U8(4), cs[c], cs[c]) // -8 times the lane's sum
	}
	for r := range rows {
		// Low nibbles (values 0-15) in the low half, high nibbles above.
		w, hi := YMM(), YMM()
		VBROADCASTI128(Mem{Base: rows[r], Disp: q40Bytes*h + 2}, w)
		VPSRLW(U8(4), w, hi)
		VPBLENDD(U8(0xf0), hi, w, w)
		VPAND(vecConst("nibbles", 0x0f0f0f0f), w, w)
		dh, dw := XMM(), YMM()
		VPBROADCASTW(Mem{Base: rows[r], Disp: q40Bytes * h}, dh)
		VCVTPH2PS(dh, dw)
		for c := range cols {
			t, sc := YMM(), YMM()
			VPMADDUBSW(xs[c], w, t)
			VPMADDWD(vecConst("ones16", 0x00010001), t, t)
			VPADDD(cs[c], t, t)
			VCVTDQ2PS(t, t)
			VMULPS(Mem{Base: cols[c], Disp: pairScales + 32*h}, dw, sc)
			VFMADD231PS(sc, t, acc[r][c][h])
		}
	}
}

// q40RowsAVX2 generates the Q4_0 matrix-vector loop over rows one at a time
// with the 1×1 tile's body.
func q40RowsAVX2() {
	name := "q40RowsAVX2"
	function(name, "func(w *byte, wstride uintptr, a *byte, nb int, rows int, out *float32)",
		name+" computes rows dot products of Q4_0 rows with one Q8 activation, one row at a time (see q8Rows).")
	w, ws, a := param("w"), param("wstride"), param("a")
	rows, out := param("rows"), param("out")
	rowLoop(name, "_row", rows, w, ws, out, func() {
		acc := zeroAcc(avx2, 1, 1, 2)
		wp, ap, nb := GP64(), GP64(), param("nb")
		MOVQ(w, wp)
		MOVQ(a, ap)
		q40Pairs(name, []GPVirtual{wp}, []GPVirtual{ap}, nb, acc)
		VMOVSS(reduce16(avx2, acc[0][0]), Mem{Base: out})
	})
}
