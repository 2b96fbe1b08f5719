package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// widenKernel generates the conversion of n (a multiple of 16) F16 or BF16
// values to float32.
func widenKernel(s isa, bf bool) {
	t := f16
	if bf {
		t = bf16
	}
	name := fmt.Sprintf("widen%s%s", t, s)
	TEXT(name, NOSPLIT, "func(dst *float32, src *uint16, n int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s converts n %s values (n a multiple of 16) to float32.", name, t))
	dst := param("dst")
	src := param("src")
	n := param("n")
	idx := GP64()
	XORQ(idx, idx)
	Label(name + "_loop")
	CMPQ(idx, n)
	JAE(LabelRef(name + "_done"))
	for h := 0; h < 16/s.width(); h++ {
		v := s.vec()
		loadWiden(t, Mem{Base: src, Index: idx, Scale: 2, Disp: 2 * s.width() * h}, v)
		VMOVUPS(v, Mem{Base: dst, Index: idx, Scale: 4, Disp: 4 * s.width() * h})
	}
	ADDQ(U8(16), idx)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
