package main

import (
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

// reduce16 sums the 16 lanes held in lo (lanes 0-7 or, for AVX-512, all 16)
// and hi (lanes 8-15, AVX2 only; nil otherwise) in the order of reduce.go,
// leaving the sum in the low lane of the returned register.
func reduce16(s isa, lo, hi VecVirtual) Register {
	var y Register
	if hi != nil {
		VADDPS(hi, lo, lo)
		y = lo.AsY()
	} else {
		y = lo.AsY()
		t := YMM()
		VEXTRACTF64X4(U8(1), lo, t)
		VADDPS(t, y, y)
	}
	x := lo.AsX()
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

// param loads the named argument into a new general-purpose register.
func param(name string) GPVirtual {
	r := GP64()
	Load(Param(name), r)
	return r
}
