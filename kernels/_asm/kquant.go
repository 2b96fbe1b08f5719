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
	// here) given the rows' and activations' block pointers and a stack
	// slot of slot bytes per row.
	block func(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem)
	// scale emits acc[r][c] += lanes of one block's isum times the scales
	// (and the mins' term).
	scale func(rows, cols []GPVirtual, isum [][]VecVirtual, acc [][]VecVirtual, st Mem)
}

// slot is the stack space of one row's unpacked scales: 16 int16 scales,
// then 16 int16 mins (8 for Q4_K and Q5_K).
const slot = 64

// ktypes lists the 256-value-block types with AVX2 kernels.
var ktypes = []ktype{
	{name: "Q2K", bytes: 84, block: q2KBlock, scale: scaleStep(80, minGroups)},
	{name: "Q3K", bytes: 110, block: q3KBlock, scale: scaleStep(108, noMins)},
	{name: "Q4K", bytes: 144, block: q45KBlock(false), scale: scaleStep(0, minPairs)},
	{name: "Q5K", bytes: 176, block: q45KBlock(true), scale: scaleStep(0, minPairs)},
	{name: "Q6K", bytes: 210, block: q6KBlock, scale: scaleStep(208, noMins)},
}

// How a type's mins enter the scale step.
const (
	noMins    = iota
	minPairs  // 8 mins of 32 values, at slot+16 as int16
	minGroups // 16 mins of 16 values, at slot+32 as int16
)

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
	name := fmt.Sprintf("dot%sx%dx%dAVX2", t.name, R, C)
	function(name, q8Sig, fmt.Sprintf("%s computes a %d×%d tile of %s weights times Q8K activations with AVX2 (see q8Kern).", name, R, C, t.name))
	rows := pointers(param("w"), param("wstride"), R)
	cols := pointers(param("a"), param("astride"), C)
	st := AllocLocal(slot * R)
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
	name := fmt.Sprintf("dot%sRowsAVX2", t.name)
	function(name, "func(w *byte, wstride uintptr, a *byte, nb int, rows int, out *float32)",
		fmt.Sprintf("%s computes rows dot products of %s rows with one Q8K activation, one row at a time (see q8Rows).", name, t.name))
	w, ws, a := param("w"), param("wstride"), param("a")
	rows, out := param("rows"), param("out")
	st := AllocLocal(slot)
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

// q45KBlock returns the block step of Q4_K (q5 false) or Q5_K: per 64
// values, the low nibbles of 32 bytes (scale 2j) then the high nibbles
// (scale 2j+1), for Q5_K each with a fifth bit from the 32 high-bit bytes,
// times 32 activations with VPMADDUBSW, scaled with VPMADDWD.
func q45KBlock(q5 bool) func(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem) {
	qs := 16
	if q5 {
		qs = 48
	}
	return func(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem) {
		for r := range rows {
			q4KScales(rows[r], 4, st.Offset(slot*r))
		}
		for j := range 4 {
			for p := range 2 {
				xs := loadActs(cols, 64*j+32*p)
				for r := range rows {
					w, s := YMM(), YMM()
					VMOVDQU(Mem{Base: rows[r], Disp: qs + 32*j}, w)
					if p == 1 {
						VPSRLW(U8(4), w, w)
					}
					VPAND(vecConst("nibbles", 0x0f0f0f0f), w, w)
					if q5 {
						highBits(Mem{Base: rows[r], Disp: 16}, 2*j+p, 4, w)
					}
					VPBROADCASTW(st.Offset(slot*r+2*(2*j+p)), s)
					for c := range cols {
						madd(xs[c], w, s, isum[r][c])
					}
				}
			}
		}
	}
}

// loadActs loads 32 activation values at byte off of each column.
func loadActs(cols []GPVirtual, off int) []VecVirtual {
	xs := make([]VecVirtual, len(cols))
	for c := range cols {
		xs[c] = YMM()
		VMOVDQU(Mem{Base: cols[c], Disp: off}, xs[c])
	}
	return xs
}

// highBits ORs bit b of each of the 32 bytes at m into bit to of w's bytes.
func highBits(m Mem, b, to int, w VecVirtual) {
	h := YMM()
	VMOVDQU(m, h)
	// Shifts of 16-bit words move each byte's bit b to bit to without
	// bringing in a neighbour's bit there, for |b-to| < 8-to and to < 8.
	switch {
	case b < to:
		VPSLLW(U8(to-b), h, h)
	case b > to:
		VPSRLW(U8(b-to), h, h)
	}
	VPAND(vecConst(fmt.Sprintf("bit%d", to), 0x01010101<<to), h, h)
	VPOR(h, w, w)
}

// signedRuns emits the products of rows of signed values in [-128, 127],
// 32 per run, with the run's two 16-value group scales from the stack
// slot: for run i of 8, value(r, i) builds row r's 32 values.
func signedRuns(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem, value func(r, i int) VecVirtual) {
	for i := range 8 {
		xs := loadActs(cols, 32*i)
		for r := range rows {
			q := value(r, i)
			aq := YMM()
			VPABSB(q, aq)
			s := groupScales(st.Offset(slot*r), 2*i)
			for c := range cols {
				t := YMM()
				VPSIGNB(q, xs[c], t)
				madd(t, aq, s, isum[r][c])
			}
		}
	}
}

// groupScales returns the int16 scales of groups g (low half) and g+1
// (high half) from the 16 int16 at st.
func groupScales(st Mem, g int) VecVirtual {
	s, s2 := YMM(), YMM()
	VPBROADCASTW(st.Offset(2*g), s)
	VPBROADCASTW(st.Offset(2*g+2), s2)
	VPBLENDD(U8(0xf0), s2, s, s)
	return s
}

// q2KBlock emits the integer lane sums of a Q2_K block: per 128 values,
// four 2-bit planes of 32 bytes, each run of 32 unsigned values scaled by
// its two groups' 4-bit scales.
func q2KBlock(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem) {
	for r := range rows {
		sc, mn := XMM(), XMM()
		VMOVDQU(Mem{Base: rows[r]}, sc)
		VPSRLW(U8(4), sc, mn)
		VPAND(vecConst("nibbles", 0x0f0f0f0f), sc, sc)
		VPAND(vecConst("nibbles", 0x0f0f0f0f), mn, mn)
		y := YMM()
		VPMOVZXBW(sc, y)
		VMOVDQU(y, st.Offset(slot*r))
		VPMOVZXBW(mn, y)
		VMOVDQU(y, st.Offset(slot*r+32))
	}
	for i := range 8 {
		n, p := i/4, i%4
		xs := loadActs(cols, 32*i)
		for r := range rows {
			w := YMM()
			VMOVDQU(Mem{Base: rows[r], Disp: 16 + 32*n}, w)
			if p > 0 {
				VPSRLW(U8(2*p), w, w)
			}
			VPAND(vecConst("bits01", 0x03030303), w, w)
			s := groupScales(st.Offset(slot*r), 2*i)
			for c := range cols {
				madd(xs[c], w, s, isum[r][c])
			}
		}
	}
}

// q3KScales unpacks the 16 6-bit scales of the Q3_K block at row (12
// bytes at 96), less 32, into 16 int16 at st.
func q3KScales(row GPVirtual, st Mem) {
	a, b, c := GP64(), GP64(), GP64()
	MOVL(Mem{Base: row, Disp: 96}, a.As32())
	MOVL(Mem{Base: row, Disp: 100}, b.As32())
	MOVL(Mem{Base: row, Disp: 104}, c.As32())
	// Scales 4i..4i+3 take low nibbles of a or b (high nibbles for i >= 2)
	// and bits 2i, 2i+1 of the bytes of c.
	part := func(lo GPVirtual, loShift, hiShift int) GPVirtual {
		v, h := GP64(), GP64()
		MOVL(lo.As32(), v.As32())
		if loShift > 0 {
			SHRL(U8(loShift), v.As32())
		}
		ANDL(U32(0x0f0f0f0f), v.As32())
		MOVL(c.As32(), h.As32())
		if hiShift > 0 {
			SHRL(U8(hiShift), h.As32())
		}
		ANDL(U32(0x03030303), h.As32())
		SHLL(U8(4), h.As32())
		ORL(h.As32(), v.As32())
		return v
	}
	s0, s1, s2, s3 := part(a, 0, 0), part(b, 0, 2), part(a, 4, 4), part(b, 4, 6)
	SHLQ(U8(32), s1)
	ORQ(s1, s0)
	SHLQ(U8(32), s3)
	ORQ(s3, s2)
	x, y := XMM(), YMM()
	VMOVQ(s0, x)
	VPINSRQ(U8(1), s2, x, x)
	VPSUBB(vecConst("bytes32", 0x20202020), x, x)
	VPMOVSXBW(x, y)
	VMOVDQU(y, st)
}

// q3KBlock emits the integer lane sums of a Q3_K block: per 128 values,
// four 2-bit planes of 32 bytes with a third bit from the 32 high-bit
// bytes, offset by -4 to signed values.
func q3KBlock(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem) {
	for r := range rows {
		q3KScales(rows[r], st.Offset(slot*r))
	}
	signedRuns(rows, cols, isum, st, func(r, i int) VecVirtual {
		n, p := i/4, i%4
		q := YMM()
		VMOVDQU(Mem{Base: rows[r], Disp: 32 + 32*n}, q)
		if p > 0 {
			VPSRLW(U8(2*p), q, q)
		}
		VPAND(vecConst("bits01", 0x03030303), q, q)
		highBits(Mem{Base: rows[r]}, 4*n+p, 2, q)
		VPSUBB(vecConst("bytes4", 0x04040404), q, q)
		return q
	})
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
// dmin the F16 after d and the unpacked mins in each row's stack slot.
func scaleStep(off, mins int) func([]GPVirtual, []GPVirtual, [][]VecVirtual, [][]VecVirtual, Mem) {
	return func(rows, cols []GPVirtual, isum, acc [][]VecVirtual, st Mem) {
		for c := range cols {
			dx, xs := YMM(), VecVirtual(nil)
			VBROADCASTSS(Mem{Base: cols[c], Disp: q8kScale}, dx)
			if mins != noMins {
				xs = YMM()
				VMOVDQU(Mem{Base: cols[c], Disp: q8kSums}, xs)
			}
			if mins == minPairs {
				VPMADDWD(vecConst("ones16", 0x00010001), xs, xs) // sums of 32 activations
			}
			for r := range rows {
				d, f := YMM(), YMM()
				halfScale(rows[r], off, dx, d)
				VCVTDQ2PS(isum[r][c], f)
				VFMADD231PS(d, f, acc[r][c])
				mn := YMM()
				switch mins {
				case noMins:
					continue
				case minPairs:
					VPMOVZXWD(st.Offset(slot*r+16), mn)
					VPMULLD(xs, mn, mn)
				case minGroups:
					VPMADDWD(st.Offset(slot*r+32), xs, mn)
				}
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
// the 32 high-part bytes, offset by -32 to signed values.
func q6KBlock(rows, cols []GPVirtual, isum [][]VecVirtual, st Mem) {
	for r := range rows {
		y := YMM()
		VPMOVSXBW(Mem{Base: rows[r], Disp: 192}, y)
		VMOVDQU(y, st.Offset(slot*r))
	}
	signedRuns(rows, cols, isum, st, func(r, i int) VecVirtual {
		n, p := i/4, i%4
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
		return q
	})
}
