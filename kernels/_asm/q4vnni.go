package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// vnniTiles lists the R×C tiles of the VNNI prefill kernels.
var vnniTiles = [][2]int{{1, 1}, {1, 2}, {1, 3}, {1, 4}, {2, 1}, {2, 2}, {2, 3}, {2, 4}, {4, 1}, {4, 2}, {4, 3}, {4, 4}}

// quantVNNIKernels generates the AVX-512 VNNI tiles of Q4_0, IQ4_NL, Q4_K,
// Q5_K and Q6_K.
func quantVNNIKernels() {
	for _, iq4 := range []bool{false, true} {
		for _, tl := range vnniTiles {
			q4VNNI(iq4, tl[0], tl[1])
		}
	}
	for _, t := range kvnniTypes {
		for _, tl := range append(vnniTiles, [][2]int{{1, 5}, {1, 6}, {2, 5}, {2, 6}, {4, 5}, {4, 6}}...) {
			kVNNI(t, tl[0], tl[1])
		}
	}
}

// vnniOp emits an AVX-512 VNNI instruction (acc += products of s and u),
// which the instruction tables lack.
func vnniOp(opcode string, s, u, acc Op) {
	Instruction(&ir.Instruction{
		Opcode:   opcode,
		Operands: []Op{s, u, acc},
		Inputs:   []Op{s, u, acc},
		Outputs:  []Op{acc},
		ISA:      []string{"AVX512_VNNI"},
	})
}

// bytes64 returns a 64-byte read-only vector whose byte i is f(i).
func bytes64(name string, f func(i int) byte) Mem {
	if m, ok := consts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i := range 64 {
		DATA(i, U8(f(i)))
	}
	consts[name] = m
	return m
}

// nibbleShifts returns the VPSRLVW counts that leave the low nibbles in
// the 16-byte lanes 0 and 2 and bring the high nibbles down in lanes 1
// and 3.
func nibbleShifts() Mem {
	return bytes64("nibbleShifts", func(i int) byte {
		if i%2 == 0 && i/16%2 == 1 {
			return 4
		}
		return 0
	})
}

// q4VNNI generates an R×C Q4_0 (iq4 false) or IQ4_NL tile with AVX-512
// VNNI, two blocks per ZMM register as q8VNNI: Q4_0's codes 0-15 times x
// with VPDPBUSD on top of -8 times each lane's activation sum (the
// correction shifted right by 4), IQ4_NL's values plus 128 on top of the
// correction itself, so each int32 lane holds the dot of 4 values and x.
func q4VNNI(iq4 bool, R, C int) {
	tn := "Q40"
	if iq4 {
		tn = "IQ4NL"
	}
	name := fmt.Sprintf("dot%sx%dx%dVNNI", tn, R, C)
	rows, cols, nb := tilePrologue(name, R, C, tn+" weights times Q8", false)
	nib, shr, tab := ZMM(), ZMM(), ZMM()
	VMOVDQU64(vecConst("nibbles", 0x0f0f0f0f), nib)
	VMOVDQU64(nibbleShifts(), shr)
	if iq4 {
		VMOVDQU64(bytes64("iq4Values128", func(i int) byte { return byte(int(iq4Values[i%16]) + 128) }), tab)
	}
	acc := zeroAcc(avx512, R, C, 1)
	low, tmp := K(), GP32()
	MOVL(U32(0xff), tmp)
	KMOVW(tmp, low)
	const bb = 18 // block bytes: F16 scale, 16 bytes of codes
	pairLoop(name, rows, cols, nb, bb, func(single bool) {
		cs := make([]VecVirtual, C)
		for c := range cs {
			cs[c] = ZMM()
			if iq4 {
				VMOVDQU32(Mem{Base: cols[c], Disp: pairCorr}, cs[c])
			} else {
				VPSRAD(U8(4), Mem{Base: cols[c], Disp: pairCorr}, cs[c])
			}
		}
		for r := range R {
			w, dw, dh := ZMM(), ZMM(), YMM()
			VPBROADCASTW(Mem{Base: rows[r]}, dh)
			if single {
				VBROADCASTI32X4(Mem{Base: rows[r], Disp: 2}, w)
			} else {
				VMOVDQU32(Mem{Base: rows[r], Disp: 2}, w.AsX())
				VINSERTI32X4(U8(1), Mem{Base: rows[r], Disp: bb + 2}, w.AsY(), w.AsY())
				VSHUFI64X2(U8(0x50), w, w, w) // codes of block 0, 0, 1, 1
				d2 := XMM()
				VPBROADCASTW(Mem{Base: rows[r], Disp: bb}, d2)
				VINSERTI32X4(U8(1), d2, dh, dh)
			}
			VPSRLVW(shr, w, w)
			VPANDD(nib, w, w)
			if iq4 {
				VPSHUFB(w, tab, w)
			}
			VCVTPH2PS(dh, dw)
			for c := range C {
				t := ZMM()
				VMOVDQA64(cs[c], t)
				vpdpbusd(Mem{Base: cols[c]}, w, t)
				pairScaleAdd(t, cols[c], dw, acc[r][c][0], low, single)
			}
		}
	})
	storeTile(avx512, acc)
}

// pairScaleAdd emits acc += float(t) * (dw * the activation pair's
// scales at col), in lanes 0-7 only (mask low) for a single block.
func pairScaleAdd(t VecVirtual, col GPVirtual, dw, acc VecVirtual, low Register, single bool) {
	sc := ZMM()
	VCVTDQ2PS(t, t)
	VMULPS(Mem{Base: col, Disp: pairScales}, dw, sc)
	if single {
		VFMADD231PS(sc, t, low, acc)
	} else {
		VFMADD231PS(sc, t, acc)
	}
}

// tilePrologue starts the R×C VNNI tile name of the q8Kern signature,
// documented as multiplying what, and loads its row and input pointers
// and block count. With split the function checks for stack space (its
// frame is too large for NOSPLIT).
func tilePrologue(name string, R, C int, what string, split bool) (rows, cols []GPVirtual, nb GPVirtual) {
	doc := fmt.Sprintf("%s computes a %d×%d tile of %s activations with AVX-512 VNNI (see q8Kern).", name, R, C, what)
	if split {
		TEXT(name, 0, q8Sig)
		Pragma("noescape")
		Doc(doc)
	} else {
		function(name, q8Sig, doc)
	}
	return pointers(param("w"), param("wstride"), R), pointers(param("a"), param("astride"), C), param("nb")
}
