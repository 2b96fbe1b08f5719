package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Constants of exp32 (exp.go in the package): e^x = 2^n * e^r with
// n = round(x*log2(e)), r = x - n*ln2 in two parts, and e^r from its Taylor
// polynomial of degree 7.
var (
	expLog2e = float32(math.Log2E)
	expLn2Hi = float32(0.693359375)
	expLn2Lo = float32(-2.12194440e-4)
	expMax   = float32(88)
	expMin   = float32(-87)
)

// expCoef[k] is 1/k! rounded to float32, written as in the package.
var expCoef = [8]float32{1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040}

// consts caches the read-only vectors emitted so far.
var consts = map[string]Mem{}

// vecConst returns a 64-byte read-only vector of 16 copies of the 32-bit
// value bits (AVX2 code reads its first half).
func vecConst(name string, bits uint32) Mem {
	if m, ok := consts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(bits))
	}
	consts[name] = m
	return m
}

// f32Const is vecConst of a float32 value.
func f32Const(name string, f float32) Mem { return vecConst(name, math.Float32bits(f)) }

// exp32 replaces x by e^x, in the same operations as the Go exp32.
func exp32(s isa, x VecVirtual) {
	t, r, p := s.vec(), s.vec(), s.vec()
	VMOVUPS(f32Const("expMax", expMax), t)
	VMINPS(x, t, x) // min(88, x); a NaN x is the second source and stays
	VMULPS(f32Const("expLog2e", expLog2e), x, t)
	if s == avx512 {
		VRNDSCALEPS(U8(0), t, t)
	} else {
		VROUNDPS(U8(0), t, t)
	}
	VMOVAPS(x, r)
	VFNMADD231PS(f32Const("expLn2Hi", expLn2Hi), t, r)
	VFNMADD231PS(f32Const("expLn2Lo", expLn2Lo), t, r)
	VMOVUPS(f32Const("expC7", expCoef[7]), p)
	for k := 6; k >= 0; k-- {
		VFMADD213PS(f32Const(fmt.Sprintf("expC%d", k), expCoef[k]), r, p)
	}
	VCVTPS2DQ(t, t)
	VPADDD(vecConst("expBias", 127), t, t)
	VPSLLD(U8(23), t, t)
	VMULPS(t, p, p)
	// Below expMin the result is 0 (a NaN compares false and stays).
	if s == avx512 {
		k := K()
		VCMPPS(U8(5), f32Const("expMin", expMin), x, k) // !(x < min)
		VMOVAPS_Z(p, k, x)
	} else {
		VCMPPS(U8(1), f32Const("expMin", expMin), x, t) // x < min
		VANDNPS(p, t, x)
	}
}

// expKernel generates dst[i] = exp32(src[i]) for n a multiple of 16.
func expKernel(s isa) {
	name := fmt.Sprintf("exp%s", s)
	function(name, "func(dst, src *float32, n int)",
		fmt.Sprintf("%s sets dst[i] = exp32(src[i]) for n (a multiple of 16) values.", name))
	dst, src, n := param("dst"), param("src"), param("n")
	lanesLoop(s, name, n, func(idx GPVirtual, h int) {
		x := s.vec()
		VMOVUPS(Mem{Base: src, Index: idx, Scale: 4, Disp: 4 * s.width() * h}, x)
		exp32(s, x)
		VMOVUPS(x, Mem{Base: dst, Index: idx, Scale: 4, Disp: 4 * s.width() * h})
	})
	ret()
}

// expShiftSumKernel generates x[i] = exp32(x[i] - shift) for n (a multiple
// of 16) values, adding each result to lane i%16 of acc in order.
func expShiftSumKernel(s isa) {
	name := fmt.Sprintf("expShiftSum%s", s)
	function(name, "func(x *float32, n int, shift float32, acc *float32)",
		fmt.Sprintf("%s sets x[i] = exp32(x[i]-shift) for n (a multiple of 16) values and adds them to the 16 lanes acc.", name))
	x, n, acc := param("x"), param("n"), param("acc")
	shift := broadcastParam(s, "shift")
	sums := make([]VecVirtual, 16/s.width())
	for h := range sums {
		sums[h] = s.vec()
		VMOVUPS(Mem{Base: acc, Disp: 4 * s.width() * h}, sums[h])
	}
	lanesLoop(s, name, n, func(idx GPVirtual, h int) {
		v := s.vec()
		m := Mem{Base: x, Index: idx, Scale: 4, Disp: 4 * s.width() * h}
		VMOVUPS(m, v)
		VSUBPS(shift, v, v)
		exp32(s, v)
		VMOVUPS(v, m)
		VADDPS(v, sums[h], sums[h])
	})
	for h := range sums {
		VMOVUPS(sums[h], Mem{Base: acc, Disp: 4 * s.width() * h})
	}
	ret()
}
