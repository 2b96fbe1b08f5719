package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// stype is a 32-value-block weight type other than Q8_0 with AVX2
// kernels. Its 16 bytes of 4-bit codes hold values 0-15 in the low
// nibbles and 16-31 in the high ones.
type stype struct {
	name  string
	bytes int  // block bytes
	min   bool // an F16 min follows the F16 scale (Q4_1, Q5_1)
	qs    int  // offset of the 4-bit codes
	qh    int  // offset of the 32 fifth bits (Q5_0, Q5_1), or 0
	// bias is the offset the values are stored with (8 or 16), taken off
	// as bias times each lane's activation sum; 0 for none.
	bias int
	// table maps the codes to signed values (IQ4_NL).
	table bool
}

// stypes lists the 32-value-block types with AVX2 kernels beside Q8_0.
var stypes = []stype{
	{name: "Q40", bytes: 18, qs: 2, bias: 8},
	{name: "Q41", bytes: 20, min: true, qs: 4},
	{name: "Q50", bytes: 22, qs: 6, qh: 2, bias: 16},
	{name: "Q51", bytes: 24, min: true, qs: 8, qh: 4},
	{name: "IQ4NL", bytes: 18, qs: 2, table: true},
}

// sTiles lists the R×C tiles generated for them.
var sTiles = [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}, {4, 1}}

// iq4Values are IQ4_NL's 16 values, as in the package.
var iq4Values = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// bytesConst returns a 32-byte read-only vector.
func bytesConst(name string, b [32]byte) Mem {
	if m, ok := consts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i, v := range b {
		DATA(i, U8(v))
	}
	consts[name] = m
	return m
}

// sTile generates an R×C tile of type t with AVX2: the unsigned values
// times the Q8 activations with VPMADDUBSW and VPMADDWD (signed table
// values as |q| times x*sign(q)), so that each int32 lane holds the dot of
// 4 values, less bias times the lane's activation sum (the activation's
// correction, -128 times that sum, shifted right).
func sTile(t stype, R, C int) {
	name := fmt.Sprintf("dot%sx%dx%dAVX2", t.name, R, C)
	function(name, q8Sig, fmt.Sprintf("%s computes a %d×%d tile of %s weights times Q8 activations with AVX2 (see q8Kern).", name, R, C, t.name))
	rows := pointers(param("w"), param("wstride"), R)
	cols := pointers(param("a"), param("astride"), C)
	acc := zeroAcc(avx2, R, C, 2)
	sPairs(t, name, rows, cols, param("nb"), acc)
	storeTile(avx2, acc)
}

// sPairs emits the block loop of an R×C tile of type t over nb blocks.
func sPairs(t stype, name string, rows, cols []GPVirtual, nb GPVirtual, acc [][][]VecVirtual) {
	pairLoop(name, rows, cols, nb, t.bytes, func(single bool) {
		sBlock(t, rows, cols, acc, 0)
		if !single {
			sBlock(t, rows, cols, acc, 1)
		}
	})
}

// sValues loads the 32 values of the block at row+off.
func sValues(t stype, row GPVirtual, off int) VecVirtual {
	// Low nibbles (values 0-15) in the low half, high nibbles above.
	w, hi := YMM(), YMM()
	VBROADCASTI128(Mem{Base: row, Disp: off + t.qs}, w)
	VPSRLW(U8(4), w, hi)
	VPBLENDD(U8(0xf0), hi, w, w)
	VPAND(vecConst("nibbles", 0x0f0f0f0f), w, w)
	if t.qh != 0 {
		// Byte j takes bit j of the 32-bit field: spread the field's
		// bytes, test one bit per byte, keep 0x10 where it is set.
		var spread, bits [32]byte
		for j := range spread {
			spread[j] = byte(j / 8 % 2)
			if j >= 16 {
				spread[j] += 2
			}
			bits[j] = 1 << (j % 8)
		}
		h := YMM()
		VPBROADCASTD(Mem{Base: row, Disp: off + t.qh}, h)
		VPSHUFB(bytesConst("spread32", spread), h, h)
		VPAND(bytesConst("bitPerByte", bits), h, h)
		VPCMPEQB(bytesConst("bitPerByte", bits), h, h)
		VPAND(vecConst("bit4", 0x10101010), h, h)
		VPOR(h, w, w)
	}
	if t.table {
		var tab [32]byte
		for j := range tab {
			tab[j] = byte(iq4Values[j%16])
		}
		v := YMM()
		VMOVDQU(bytesConst("iq4Values", tab), v)
		VPSHUFB(w, v, w)
	}
	return w
}

// sBlock emits block h (0 or 1) of a pair for an R×C tile of type t.
func sBlock(t stype, rows, cols []GPVirtual, acc [][][]VecVirtual, h int) {
	xs, cs := make([]VecVirtual, len(cols)), make([]VecVirtual, len(cols))
	for c := range cols {
		xs[c] = YMM()
		VMOVDQU(Mem{Base: cols[c], Disp: 32 * h}, xs[c])
		if t.bias != 0 {
			cs[c] = YMM()
			VMOVDQU(Mem{Base: cols[c], Disp: pairCorr + 32*h}, cs[c])
			VPSRAD(U8(7-log2(t.bias)), cs[c], cs[c]) // -bias times the lane's sum
		}
	}
	for r := range rows {
		w := sValues(t, rows[r], t.bytes*h)
		var aw VecVirtual
		if t.table {
			aw = YMM()
			VPABSB(w, aw)
		}
		dh, dw := XMM(), YMM()
		VPBROADCASTW(Mem{Base: rows[r], Disp: t.bytes * h}, dh)
		VCVTPH2PS(dh, dw)
		for c := range cols {
			p, sc := YMM(), YMM()
			if t.table {
				VPSIGNB(w, xs[c], p)
				VPMADDUBSW(p, aw, p)
			} else {
				VPMADDUBSW(xs[c], w, p)
			}
			VPMADDWD(vecConst("ones16", 0x00010001), p, p)
			if t.bias != 0 {
				VPADDD(cs[c], p, p)
			}
			VCVTDQ2PS(p, p)
			VMULPS(Mem{Base: cols[c], Disp: pairScales + 32*h}, dw, sc)
			VFMADD231PS(sc, p, acc[r][c][h])
			if t.min {
				// acc -= float(corr >> 7) * (m*dx), corr >> 7 being minus
				// the lane's activation sum.
				VMOVDQU(Mem{Base: cols[c], Disp: pairCorr + 32*h}, p)
				VPSRAD(U8(7), p, p)
				VCVTDQ2PS(p, p)
				VPBROADCASTW(Mem{Base: rows[r], Disp: t.bytes*h + 2}, dh)
				VCVTPH2PS(dh, sc)
				VMULPS(Mem{Base: cols[c], Disp: pairScales + 32*h}, sc, sc)
				VFNMADD231PS(sc, p, acc[r][c][h])
			}
		}
	}
}

// log2 returns the base-2 logarithm of a power of two.
func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}

// sRows generates the matrix-vector loop of type t over rows one at a
// time with the 1×1 tile's body.
func sRows(t stype) {
	name := "dot" + t.name + "RowsAVX2"
	function(name, "func(w *byte, wstride uintptr, a *byte, nb int, rows int, out *float32)",
		fmt.Sprintf("%s computes rows dot products of %s rows with one Q8 activation, one row at a time (see q8Rows).", name, t.name))
	w, ws, a := param("w"), param("wstride"), param("a")
	rows, out := param("rows"), param("out")
	rowLoop(name, "_row", rows, w, ws, out, func() {
		acc := zeroAcc(avx2, 1, 1, 2)
		wp, ap, nb := GP64(), GP64(), param("nb")
		MOVQ(w, wp)
		MOVQ(a, ap)
		sPairs(t, name, []GPVirtual{wp}, []GPVirtual{ap}, nb, acc)
		VMOVSS(reduce16(avx2, acc[0][0]), Mem{Base: out})
	})
}
