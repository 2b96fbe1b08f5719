package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Layout of a Q8K activation block (actq8k.go).
const (
	q8kBytes = 320
	q8kSums  = 256
	q8kScale = 288
)

// ktype is a 256-value-block weight type with an AVX2 kernel.
type ktype struct {
	name  string // as in the function names: Q4K, Q6K
	bytes int    // block bytes
	// block emits one block's integer lane sums into isum[r][c] (zeroed
	// here) given the rows' and activations' block pointers and a 32-byte
	// stack slot per row.
	block func(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem)
	// scale emits acc[r][c] += lanes of one block's isum times the scales
	// (and the mins' term).
	scale func(rows, cols []GPVirtual, isum [][]VecVirtual, acc [][]VecVirtual, st Mem)
}

var q4K = ktype{name: "Q4K", bytes: 144, block: q4KBlock, scale: scaleStep(0, true)}
var q6K = ktype{name: "Q6K", bytes: 210, block: q6KBlock, scale: scaleStep(208, false)}

// ktypes lists the 256-value-block types with AVX2 kernels.
var ktypes = []ktype{q4K, q6K}

// kTiles lists the R×C tiles generated for them.
var kTiles = [][2]int{{1, 1}, {1, 2}, {1, 3}, {2, 1}, {2, 2}, {4, 1}}

// vecs allocates R×C YMM registers, cleared when zero is set.
func vecs(R, C int, zero bool) [][]VecVirtual {
	v := make([][]VecVirtual, R)
	for r := range v {
		v[r] = make([]VecVirtual, C)
		for c := range v[r] {
			v[r][c] = YMM()
			if zero {
				VPXOR(v[r][c], v[r][c], v[r][c])
			}
		}
	}
	return v
}

// kBlocks emits the loop over nb blocks of an R×C tile into acc.
func kBlocks(t ktype, name string, rows, cols []GPVirtual, nb GPVirtual, acc [][]VecVirtual, st Mem) {
	Label(name + "_loop")
	TESTQ(nb, nb)
	JZ(LabelRef(name + "_end"))
	isum := vecs(len(rows), len(cols), true)
	t.block(rows, cols, isum, st)
	t.scale(rows, cols, isum, acc, st)
	for _, r := range rows {
		ADDQ(U32(t.bytes), r)
	}
	for _, c := range cols {
		ADDQ(U32(q8kBytes), c)
	}
	DECQ(nb)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_end")
}

// kTile generates the R×C tile of type t with AVX2.
func kTile(t ktype, R, C int) {
	name := fmt.Sprintf("%sx%dx%dAVX2", t.name, R, C)
	function(name, q8Sig, fmt.Sprintf("%s computes a %d×%d tile of %s weights times Q8K activations with AVX2 (see q8Kern).", name, R, C, t.name))
	rows := pointers(param("w"), param("wstride"), R)
	cols := pointers(param("a"), param("astride"), C)
	st := AllocLocal(32 * R)
	acc := vecs(R, C, true)
	kBlocks(t, name, rows, cols, param("nb"), acc, st)
	out, os := param("out"), param("ostride")
	for c := range C {
		if c > 0 {
			ADDQ(os, out)
		}
		for r := range R {
			VMOVSS(reduce8(avx2, acc[r][c]), Mem{Base: out, Disp: 4 * r})
		}
	}
	ret()
}

// kRows generates the matrix-vector loop of type t, one row at a time with
// the 1×1 tile's body.
func kRows(t ktype) {
	name := fmt.Sprintf("%sRowsAVX2", t.name)
	function(name, "func(w *byte, wstride uintptr, a *byte, nb int, rows int, out *float32)",
		fmt.Sprintf("%s computes rows dot products of %s rows with one Q8K activation, one row at a time (see q8Rows).", name, t.name))
	w, ws, a := param("w"), param("wstride"), param("a")
	rows, out := param("rows"), param("out")
	st := AllocLocal(32)
	rowLoop(name, "_row", rows, w, ws, out, func() {
		acc := vecs(1, 1, true)
		wp, ap, nb := GP64(), GP64(), param("nb")
		MOVQ(w, wp)
		MOVQ(a, ap)
		kBlocks(t, name, []GPVirtual{wp}, []GPVirtual{ap}, nb, acc, st)
		VMOVSS(reduce8(avx2, acc[0][0]), Mem{Base: out})
	})
}

// q4KScales unpacks the 12 bytes of 6-bit scales and mins of the Q4_K (or
// Q5_K) block at row+off into 16 int16 at st: scales 0-7, then mins 0-7.
func q4KScales(row GPVirtual, off int, st Mem) {
	a, b, c, t, u := GP64(), GP64(), GP64(), GP64(), GP64()
	MOVL(Mem{Base: row, Disp: off}, a.As32())
	MOVL(Mem{Base: row, Disp: off + 4}, b.As32())
	MOVL(Mem{Base: row, Disp: off + 8}, c.As32())
	// Scales 4-7: low nibbles of bytes 8-11, top bits of bytes 0-3.
	MOVL(a.As32(), t.As32())
	SHRL(U8(6), t.As32())
	ANDL(U32(0x03030303), t.As32())
	SHLL(U8(4), t.As32())
	MOVL(c.As32(), u.As32())
	ANDL(U32(0x0f0f0f0f), u.As32())
	ORL(t.As32(), u.As32())
	// Mins 4-7: high nibbles of bytes 8-11, top bits of bytes 4-7.
	MOVL(b.As32(), t.As32())
	SHRL(U8(6), t.As32())
	ANDL(U32(0x03030303), t.As32())
	SHLL(U8(4), t.As32())
	SHRL(U8(4), c.As32())
	ANDL(U32(0x0f0f0f0f), c.As32())
	ORL(t.As32(), c.As32())
	// Scales and mins 0-3: the low 6 bits of bytes 0-3 and 4-7.
	ANDL(U32(0x3f3f3f3f), a.As32())
	ANDL(U32(0x3f3f3f3f), b.As32())
	SHLQ(U8(32), u)
	ORQ(u, a)
	SHLQ(U8(32), c)
	ORQ(c, b)
	x, y := XMM(), YMM()
	VMOVQ(a, x)
	VPINSRQ(U8(1), b, x, x)
	VPMOVZXBW(x, y)
	VMOVDQU(y, st)
}

// q4KBlock emits the integer lane sums of a Q4_K block: per 64 values, the
// low nibbles of 32 bytes (scale 2j) then the high nibbles (scale 2j+1),
// each times 32 activations with VPMADDUBSW, scaled with VPMADDWD.
func q4KBlock(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem) {
	for r := range rows {
		q4KScales(rows[r], 4, st.Offset(32*r))
	}
	for j := range 4 {
		for p := range 2 {
			xs := make([]VecVirtual, len(cols))
			for c := range cols {
				xs[c] = YMM()
				VMOVDQU(Mem{Base: cols[c], Disp: 64*j + 32*p}, xs[c])
			}
			for r := range rows {
				w, s := YMM(), YMM()
				VMOVDQU(Mem{Base: rows[r], Disp: 16 + 32*j}, w)
				if p == 1 {
					VPSRLW(U8(4), w, w)
				}
				VPAND(vecConst("nibbles", 0x0f0f0f0f), w, w)
				VPBROADCASTW(st.Offset(32*r+2*(2*j+p)), s)
				for c := range cols {
					madd(xs[c], w, s, isum[r][c])
				}
			}
		}
	}
}

// madd emits isum += VPMADDWD(VPMADDUBSW(w unsigned, x signed), s).
func madd(x, w, s, isum VecVirtual) {
	t := YMM()
	VPMADDUBSW(x, w, t)
	VPMADDWD(s, t, t)
	VPADDD(t, isum, isum)
}

// scaleStep returns the step acc += isum*(d*dx) for blocks whose F16 d
// sits at byte off; with mins, it then subtracts (mins·sums)*(dmin*dx),
// dmin the F16 after d and the unpacked mins in the second half of each
// row's stack slot.
func scaleStep(off int, mins bool) func([]GPVirtual, []GPVirtual, [][]VecVirtual, [][]VecVirtual, Mem) {
	return func(rows, cols []GPVirtual, isum, acc [][]VecVirtual, st Mem) {
		for c := range cols {
			dx, xs := YMM(), VecVirtual(nil)
			VBROADCASTSS(Mem{Base: cols[c], Disp: q8kScale}, dx)
			if mins {
				xs = YMM()
				VMOVDQU(Mem{Base: cols[c], Disp: q8kSums}, xs)
				VPMADDWD(vecConst("ones16", 0x00010001), xs, xs) // sums of 32 activations
			}
			for r := range rows {
				d, f := YMM(), YMM()
				halfScale(rows[r], off, dx, d)
				VCVTDQ2PS(isum[r][c], f)
				VFMADD231PS(d, f, acc[r][c])
				if !mins {
					continue
				}
				mn := YMM()
				VPMOVZXWD(st.Offset(32*r+16), mn)
				VPMULLD(xs, mn, mn)
				VCVTDQ2PS(mn, mn)
				halfScale(rows[r], off+2, dx, d)
				VFNMADD231PS(d, mn, acc[r][c])
			}
		}
	}
}

// halfScale sets d to the F16 value at row+off times dx, in every lane.
func halfScale(row GPVirtual, off int, dx, d VecVirtual) {
	h := XMM()
	VPBROADCASTW(Mem{Base: row, Disp: off}, h)
	VCVTPH2PS(h, d)
	VMULPS(dx, d, d)
}

// q6KBlock emits the integer lane sums of a Q6_K block: per 128 values,
// four runs of 32 made of a nibble of 32 low-part bytes and two bits of
// the 32 high-part bytes, offset by -32 to signed values, multiplied as
// |q| times x*sign(q) and scaled by the run's two 16-value group scales.
func q6KBlock(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem) {
	for r := range rows {
		y := YMM()
		VPMOVSXBW(Mem{Base: rows[r], Disp: 192}, y)
		VMOVDQU(y, st.Offset(32*r))
	}
	for n := range 2 {
		for p := range 4 {
			g := 8*n + 2*p
			xs := make([]VecVirtual, len(cols))
			for c := range cols {
				xs[c] = YMM()
				VMOVDQU(Mem{Base: cols[c], Disp: 128*n + 32*p}, xs[c])
			}
			for r := range rows {
				q, h := YMM(), YMM()
				VMOVDQU(Mem{Base: rows[r], Disp: 64*n + 32*(p%2)}, q)
				if p >= 2 {
					VPSRLW(U8(4), q, q)
				}
				VPAND(vecConst("nibbles", 0x0f0f0f0f), q, q)
				VMOVDQU(Mem{Base: rows[r], Disp: 128 + 32*n}, h)
				switch p { // bits 2p, 2p+1 to bits 4, 5
				case 0:
					VPSLLW(U8(4), h, h)
				case 1:
					VPSLLW(U8(2), h, h)
				case 3:
					VPSRLW(U8(2), h, h)
				}
				VPAND(vecConst("bits45", 0x30303030), h, h)
				VPOR(h, q, q)
				VPSUBB(vecConst("bytes32", 0x20202020), q, q)
				aq, s, s2 := YMM(), YMM(), YMM()
				VPABSB(q, aq)
				VPBROADCASTW(st.Offset(32*r+2*g), s)
				VPBROADCASTW(st.Offset(32*r+2*g+2), s2)
				VPBLENDD(U8(0xf0), s2, s, s)
				for c := range cols {
					t := YMM()
					VPSIGNB(q, xs[c], t)
					madd(t, aq, s, isum[r][c])
				}
			}
		}
	}
}
