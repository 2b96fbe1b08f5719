package main

import (
	"unicode"
	"unicode/utf8"

	"github.com/mmcloughlin/avo/ir"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa is a vector instruction set: AVX2 with FMA (256-bit registers) or
// AVX-512 (512-bit).
type isa int

const (
	avx2 isa = iota
	avx512
)

func (s isa) String() string { return [...]string{"AVX2", "AVX512"}[s] }

// width is the number of float32 lanes of one register.
func (s isa) width() int { return [...]int{8, 16}[s] }

// zero clears v.
func (s isa) zero(v VecVirtual) {
	if s == avx512 {
		VPXORD(v, v, v)
	} else {
		VXORPS(v, v, v)
	}
}

// vec allocates a vector register.
func (s isa) vec() VecVirtual {
	if s == avx512 {
		return ZMM()
	}
	return YMM()
}

// floatTiles lists the R×C tiles generated for float weights.
func (s isa) floatTiles() [][2]int {
	if s == avx512 {
		return [][2]int{{1, 1}, {1, 2}, {1, 3}, {1, 4}, {2, 1}, {2, 2}, {2, 3}, {2, 4}, {4, 1}, {4, 2}, {4, 3}, {4, 4}}
	}
	return [][2]int{{1, 1}, {1, 2}, {1, 3}, {2, 1}, {2, 2}, {2, 3}, {4, 1}}
}

// floatPanel is the R×C tile of the F32 panel kernel: the tile that
// package kernels uses for several inputs.
func (s isa) floatPanel() (int, int) {
	if s == avx512 {
		return 4, 4
	}
	return 2, 3
}

// wtype is a stored weight type.
type wtype int

const (
	f32 wtype = iota
	f16
	bf16
)

func (t wtype) String() string { return [...]string{"F32", "F16", "BF16"}[t] }

// size is the number of bytes of one value.
func (t wtype) size() int { return [...]int{4, 2, 2}[t] }

// loadWiden loads the values at m, of type t, into v as float32 (exactly).
func loadWiden(t wtype, m Mem, v VecVirtual) {
	switch t {
	case f32:
		VMOVUPS(m, v)
	case f16:
		VCVTPH2PS(m, v)
	case bf16:
		VPMOVZXWD(m, v)
		VPSLLD(U8(16), v, v)
	}
}

// reduce16 sums the 16 lanes held in acc (one AVX-512 register, or two AVX2
// registers with lanes 0-7 and 8-15) in the order of reduce.go, leaving the
// sum in the low lane of the returned register.
func reduce16(s isa, acc []VecVirtual) Register {
	lo := acc[0]
	var y Register
	if len(acc) == 2 {
		VADDPS(acc[1], lo, lo)
		y = lo.AsY()
	} else {
		y = lo.AsY()
		t := YMM()
		VEXTRACTF64X4(U8(1), lo, t)
		VADDPS(t, y, y)
	}
	return reduce8(s, y)
}

// reduce8 sums the 8 lanes of y (lanes l and l+4, then l and l+2, then 0
// and 1, as sum8 in reduce.go) into the low lane of the returned register.
func reduce8(s isa, y Register) Register {
	x := y.(VecVirtual).AsX()
	t := XMM()
	if s == avx512 {
		VEXTRACTF32X4(U8(1), y, t)
	} else {
		VEXTRACTF128(U8(1), y, t)
	}
	VADDPS(t, x, x)
	VMOVHLPS(x, x, t)
	VADDPS(t, x, x)
	VMOVSHDUP(x, t)
	VADDSS(t, x, x)
	return x
}

// newAcc allocates R×C accumulators of halves registers each.
func newAcc(s isa, R, C, halves int) [][][]VecVirtual {
	acc := make([][][]VecVirtual, R)
	for r := range acc {
		acc[r] = make([][]VecVirtual, C)
		for c := range acc[r] {
			acc[r][c] = make([]VecVirtual, halves)
			for h := range acc[r][c] {
				acc[r][c][h] = s.vec()
			}
		}
	}
	return acc
}

// zeroAcc allocates and clears R×C accumulators of halves registers each.
func zeroAcc(s isa, R, C, halves int) [][][]VecVirtual {
	acc := newAcc(s, R, C, halves)
	for _, row := range acc {
		for _, a := range row {
			for _, v := range a {
				s.zero(v)
			}
		}
	}
	return acc
}

// storeTile reduces every accumulator acc[r][c] into out[c*ostride + 4*r
// bytes] and returns.
func storeTile(s isa, acc [][][]VecVirtual) {
	out := param("out")
	os := param("ostride")
	for c := range acc[0] {
		if c > 0 {
			ADDQ(os, out)
		}
		for r := range acc {
			VMOVSS(reduce16(s, acc[r][c]), Mem{Base: out, Disp: 4 * r})
		}
	}
	ret()
}

// function starts the assembly function name with Go signature sig, whose
// pointer arguments do not escape, documented by doc. The name must be
// unexported: the stubs are package kernels' internals, reached through
// its dispatch tables.
func function(name, sig, doc string) {
	if r, _ := utf8.DecodeRuneInString(name); !unicode.IsLower(r) {
		panic("asm: exported assembly function " + name)
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
}

// ret leaves the vector unit's upper state clean and returns.
func ret() {
	VZEROUPPER()
	RET()
}

// rowLoop emits a loop (labelled name+loop) that runs body n times,
// advancing p by stride and out by one float32 after each, then name_done
// and the return.
func rowLoop(name, loop string, n, p, stride, out GPVirtual, body func()) {
	Label(name + loop)
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body()
	ADDQ(stride, p)
	ADDQ(U8(4), out)
	DECQ(n)
	JMP(LabelRef(name + loop))
	Label(name + "_done")
	ret()
}

// lanesLoop emits a loop over idx = 0, 16, 32, ... while idx < n, calling
// body for each register h of the 16 values at idx, and ends at name_done.
func lanesLoop(s isa, name string, n GPVirtual, body func(idx GPVirtual, h int)) {
	idx := GP64()
	XORQ(idx, idx)
	Label(name + "_loop")
	CMPQ(idx, n)
	JAE(LabelRef(name + "_done"))
	for h := 0; h < 16/s.width(); h++ {
		body(idx, h)
	}
	ADDQ(U8(16), idx)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
}

// broadcastParam loads the named float32 argument into every lane of a new
// vector register.
func broadcastParam(s isa, name string) VecVirtual {
	v := s.vec()
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	VBROADCASTSS(b.Addr, v)
	return v
}

// param loads the named argument into a new general-purpose register.
func param(name string) GPVirtual {
	r := GP64()
	Load(Param(name), r)
	return r
}

// alignLoop pads the code to a 64-byte boundary (PCALIGN), so that the
// loop that follows sits the same way in the instruction cache wherever
// the linker places its function.
func alignLoop() {
	Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []Op{U8(64)}})
}
