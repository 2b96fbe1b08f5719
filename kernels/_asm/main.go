// Command asm generates the amd64 assembly of package kernels with avo.
//
// Run it through go generate in the kernels directory.
package main

import (
	. "github.com/mmcloughlin/avo/build"
)

func main() {
	ConstraintExpr("amd64,!purego")
	for _, isa := range []isa{avx2, avx512} {
		for _, t := range []wtype{f32, f16, bf16} {
			for _, tl := range isa.floatTiles() {
				floatKernel(isa, t, tl[0], tl[1])
			}
			floatRowsKernel(isa, t)
			floatPanelKernel(isa, t)
		}
		widenKernel(isa, false)
		widenKernel(isa, true)
		expKernel(isa)
		expShiftSumKernel(isa)
		attnAccumKernel(isa)
		kvDequantKernel(isa, false)
		kvDequantKernel(isa, true)
		for _, t := range []wtype{f32, f16} {
			attnScoresKernel(isa, t, 64)
			if isa == avx512 {
				attnScoresKernel(isa, t, 128)
			}
		}
	}
	for _, tl := range [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}, {4, 1}} {
		q8AVX2(tl[0], tl[1])
	}
	q8RowsAVX2()
	for _, tl := range [][2]int{{1, 1}, {1, 2}, {1, 3}, {1, 4}, {2, 1}, {2, 2}, {2, 3}, {2, 4}, {4, 1}, {4, 2}, {4, 3}, {4, 4}} {
		q8VNNI(tl[0], tl[1])
	}
	for _, t := range ktypes {
		for _, tl := range kTiles {
			kTile(t, tl[0], tl[1])
		}
		kRows(t)
	}
	for _, t := range stypes {
		for _, tl := range sTiles {
			sTile(t, tl[0], tl[1])
		}
		sRows(t)
	}
	kquant512Kernels()
	smallQuant512Kernels()
	quantVNNIKernels()
	quantQ8KKernel()
	quantQ8Kernel()
	Generate()
}
