package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// widenKernel generates the conversion of n (a multiple of 16) F16 or BF16
// values to float32.
func widenKernel(s isa, bf bool) {
	t := f16
	if bf {
		t = bf16
	}
	name := fmt.Sprintf("widen%s%s", t, s)
	function(name, "func(dst *float32, src *uint16, n int)",
		fmt.Sprintf("%s converts n %s values (n a multiple of 16) to float32.", name, t))
	dst := param("dst")
	src := param("src")
	n := param("n")
	lanesLoop(s, name, n, func(idx GPVirtual, h int) {
		v := s.vec()
		loadWiden(t, Mem{Base: src, Index: idx, Scale: 2, Disp: 2 * s.width() * h}, v)
		VMOVUPS(v, Mem{Base: dst, Index: idx, Scale: 4, Disp: 4 * s.width() * h})
	})
	ret()
}
