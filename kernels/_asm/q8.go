package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const q8Sig = "func(w *byte, wstride uintptr, a *byte, astride uintptr, nb int, out *float32, ostride uintptr)"

// Layout constants shared with actq8.go and dtype.go.
const (
	blockBytes = 34  // Q8_0 weight block: F16 scale, 32 int8
	pairBytes  = 192 // activation block pair
	pairCorr   = 64
	pairScales = 128
)

// q8Prologue loads the arguments common to both Q8 kernels.
func q8Prologue(name string, R, C int, what string) (rows, cols []GPVirtual, nb GPVirtual) {
	function(name, q8Sig, fmt.Sprintf("%s computes a %d×%d tile of Q8_0 weights times Q8 activations with %s (see q8Kern).", name, R, C, what))
	rows = pointers(param("w"), param("wstride"), R)
	cols = pointers(param("a"), param("astride"), C)
	nb = param("nb")
	return rows, cols, nb
}

// q8Loop emits the block-pair loop around body(single) for Q8_0 weights.
func q8Loop(name string, rows, cols []GPVirtual, nb GPVirtual, body func(single bool)) {
	pairLoop(name, rows, cols, nb, blockBytes, body)
}

// pairLoop emits the block-pair loop around body(single) for weight blocks
// of bb bytes: pairs while at least two blocks remain, then a single even
// block if one is left.
func pairLoop(name string, rows, cols []GPVirtual, nb GPVirtual, bb int, body func(single bool)) {
	Label(name + "_loop")
	CMPQ(nb, U8(2))
	JB(LabelRef(name + "_single"))
	body(false)
	for _, r := range rows {
		ADDQ(U8(2*bb), r)
	}
	for _, c := range cols {
		ADDQ(U32(pairBytes), c)
	}
	SUBQ(U8(2), nb)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_single")
	TESTQ(nb, nb)
	JZ(LabelRef(name + "_reduce"))
	body(true)
	Label(name + "_reduce")
}

// q8AVX2 generates an R×C Q8_0 tile with AVX2: |w| times x*sign(w) with
// VPMADDUBSW (no saturation: |w| <= 128, |x| <= 127), pairs summed with
// VPMADDWD, so that each int32 lane holds the dot of 4 consecutive values.
func q8AVX2(R, C int) {
	name := fmt.Sprintf("q8x%dx%dAVX2", R, C)
	rows, cols, nb := q8Prologue(name, R, C, "AVX2")
	ones := q8Ones()
	acc := zeroAcc(avx2, R, C, 2)
	q8AVX2Pairs(name, rows, cols, nb, acc, ones)
	storeTile(avx2, acc)
}

// q8Ones returns a register of 16-bit ones, the VPMADDWD pair summer.
func q8Ones() VecVirtual {
	ones := YMM()
	VPCMPEQW(ones, ones, ones)
	VPSRLW(U8(15), ones, ones)
	return ones
}

// q8AVX2Pairs emits the block loop of an R×C AVX2 tile over nb blocks.
func q8AVX2Pairs(name string, rows, cols []GPVirtual, nb GPVirtual, acc [][][]VecVirtual, ones VecVirtual) {
	q8Loop(name, rows, cols, nb, func(single bool) {
		q8AVX2Block(rows, cols, acc, ones, 0)
		if !single {
			q8AVX2Block(rows, cols, acc, ones, 1)
		}
	})
}

// q8AVX2Block emits block h (0 or 1) of a pair for an R×C AVX2 tile.
func q8AVX2Block(rows, cols []GPVirtual, acc [][][]VecVirtual, ones VecVirtual, h int) {
	xs := make([]VecVirtual, len(cols))
	for c := range xs {
		xs[c] = YMM()
		VMOVDQU(Mem{Base: cols[c], Disp: 32 * h}, xs[c])
	}
	for r := range rows {
		wq := Mem{Base: rows[r], Disp: blockBytes*h + 2}
		aw := YMM()
		VPABSB(wq, aw)
		dw := YMM()
		VPBROADCASTW(Mem{Base: rows[r], Disp: blockBytes * h}, dw.AsX())
		VCVTPH2PS(dw.AsX(), dw)
		for c := range cols {
			t := YMM()
			VPSIGNB(wq, xs[c], t)
			VPMADDUBSW(t, aw, t)
			VPMADDWD(ones, t, t)
			VCVTDQ2PS(t, t)
			sc := YMM()
			VMULPS(Mem{Base: cols[c], Disp: pairScales + 32*h}, dw, sc)
			VFMADD231PS(sc, t, acc[r][c][h])
		}
	}
}

// q8RowsAVX2 generates a Q8_0 matrix-vector loop over rows one at a time
// with the 1×1 tile's body and reduction: the same bits, without a call
// per row.
func q8RowsAVX2() {
	name := "q8RowsAVX2"
	function(name, "func(w *byte, wstride uintptr, a *byte, nb int, rows int, out *float32)",
		name+" computes rows dot products of Q8_0 rows with one Q8 activation, one row at a time (see q8Rows).")
	w, ws, a := param("w"), param("wstride"), param("a")
	rows, out := param("rows"), param("out")
	ones := q8Ones()

	rowLoop(name, "_row", rows, w, ws, out, func() {
		acc := zeroAcc(avx2, 1, 1, 2)
		wp, ap, nb := GP64(), GP64(), param("nb")
		MOVQ(w, wp)
		MOVQ(a, ap)
		q8AVX2Pairs(name, []GPVirtual{wp}, []GPVirtual{ap}, nb, acc, ones)
		VMOVSS(reduce16(avx2, acc[0][0]), Mem{Base: out})
	})
}

// q8VNNI generates an R×C Q8_0 tile with AVX-512 VNNI, two blocks per ZMM
// register: (w+128) times x with VPDPBUSD on top of the -128*sum(x)
// correction, so each int32 lane again holds the dot of 4 values.
func q8VNNI(R, C int) {
	name := fmt.Sprintf("q8x%dx%dVNNI", R, C)
	rows, cols, nb := q8Prologue(name, R, C, "AVX-512 VNNI")
	c80 := ZMM()
	tmp := GP32()
	MOVL(U32(0x80808080), tmp)
	VPBROADCASTD(tmp, c80)
	acc := zeroAcc(avx512, R, C, 1)
	// A single (even) block updates lanes 0-7 only, through this mask.
	low := K()
	MOVL(U32(0xff), tmp)
	KMOVW(tmp, low)
	q8Loop(name, rows, cols, nb, func(single bool) {
		// The activation pair is always whole (an odd last block has a
		// zeroed second half), so the inputs load as full registers.
		xs := make([]VecVirtual, C)
		for c := range xs {
			xs[c] = ZMM()
			VMOVDQU64(Mem{Base: cols[c]}, xs[c])
		}
		for r := 0; r < R; r++ {
			wu, dw, t1 := ZMM(), ZMM(), ZMM()
			VPBROADCASTW(Mem{Base: rows[r]}, t1.AsY())
			if single {
				// Never read past the row: broadcast the one block.
				VBROADCASTI64X4(Mem{Base: rows[r], Disp: 2}, wu)
			} else {
				// 64 bytes from the first block's values stay inside the
				// pair; the upper half is then replaced by the second block.
				VMOVDQU64(Mem{Base: rows[r], Disp: 2}, wu)
				VINSERTI64X4(U8(1), Mem{Base: rows[r], Disp: blockBytes + 2}, wu, wu)
				t2 := ZMM()
				VPBROADCASTW(Mem{Base: rows[r], Disp: blockBytes}, t2.AsX())
				VINSERTI32X4(U8(1), t2.AsX(), t1.AsY(), t1.AsY())
			}
			VPXORD(c80, wu, wu)
			VCVTPH2PS(t1.AsY(), dw)
			for c := 0; c < C; c++ {
				t := ZMM()
				VMOVDQU32(Mem{Base: cols[c], Disp: pairCorr}, t)
				vpdpbusd(xs[c], wu, t)
				pairScaleAdd(t, cols[c], dw, acc[r][c][0], low, single)
			}
		}
	})
	storeTile(avx512, acc)
}

// vpdpbusd emits VPDPBUSD (acc += unsigned bytes of u times signed bytes of
// s, four products per int32 lane), which the instruction tables lack.
func vpdpbusd(s, u, acc Op) {
	Instruction(&ir.Instruction{
		Opcode:   "VPDPBUSD",
		Operands: []Op{s, u, acc},
		Inputs:   []Op{s, u, acc},
		Outputs:  []Op{acc},
		ISA:      []string{"AVX512_VNNI"},
	})
}
