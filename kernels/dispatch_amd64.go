//go:build amd64 && !purego

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate go run -C _asm . -out ../kernels_amd64.s -stubs ../kernels_amd64.go -pkg kernels

// avx2Impl uses 256-bit AVX2 and FMA instructions.
var avx2Impl = &impl{
	name:  "avx2",
	level: levelAVX2,
	f32: floatKernels{rowsVec: 4, rows: 2, cols: 3, tile: tiles(map[[2]int]floatKern{
		{1, 1}: dotF32x1x1AVX2, {1, 2}: dotF32x1x2AVX2, {1, 3}: dotF32x1x3AVX2,
		{2, 1}: dotF32x2x1AVX2, {2, 2}: dotF32x2x2AVX2, {2, 3}: dotF32x2x3AVX2,
		{4, 1}: dotF32x4x1AVX2,
	}), rowLoop: dotF32RowsAVX2, panel: dotF32Panel2x3AVX2},
	f16: floatKernels{rowsVec: 4, rows: 2, cols: 3, tile: tiles(map[[2]int]floatKern{
		{1, 1}: dotF16x1x1AVX2, {1, 2}: dotF16x1x2AVX2, {1, 3}: dotF16x1x3AVX2,
		{2, 1}: dotF16x2x1AVX2, {2, 2}: dotF16x2x2AVX2, {2, 3}: dotF16x2x3AVX2,
		{4, 1}: dotF16x4x1AVX2,
	}), rowLoop: dotF16RowsAVX2, panel: dotF16Panel2x3AVX2},
	bf16: floatKernels{rowsVec: 4, rows: 2, cols: 3, tile: tiles(map[[2]int]floatKern{
		{1, 1}: dotBF16x1x1AVX2, {1, 2}: dotBF16x1x2AVX2, {1, 3}: dotBF16x1x3AVX2,
		{2, 1}: dotBF16x2x1AVX2, {2, 2}: dotBF16x2x2AVX2, {2, 3}: dotBF16x2x3AVX2,
		{4, 1}: dotBF16x4x1AVX2,
	}), rowLoop: dotBF16RowsAVX2, panel: dotBF16Panel2x3AVX2},
	q8: q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: q8x1x1AVX2, {1, 2}: q8x1x2AVX2, {2, 1}: q8x2x1AVX2, {2, 2}: q8x2x2AVX2, {4, 1}: q8x4x1AVX2,
	}), rowLoop: q8RowsAVX2},
	quant:     avx2Quants(),
	widen:     widenAVX2,
	streamRow: 3 << 10,
}

// avx2Quants returns the AVX2 kernels of the quantized types other than
// Q8_0, indexed by type; the AVX-512 implementation uses them too. Types
// without an entry run the generic kernels.
func avx2Quants() (k [numDTypes]q8Kernels) {
	k[Q4_0] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ40x1x1AVX2, {1, 2}: dotQ40x1x2AVX2, {2, 1}: dotQ40x2x1AVX2, {2, 2}: dotQ40x2x2AVX2, {4, 1}: dotQ40x4x1AVX2,
	}), rowLoop: dotQ40RowsAVX2}
	k[Q4_1] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ41x1x1AVX2, {1, 2}: dotQ41x1x2AVX2, {2, 1}: dotQ41x2x1AVX2, {2, 2}: dotQ41x2x2AVX2, {4, 1}: dotQ41x4x1AVX2,
	}), rowLoop: dotQ41RowsAVX2}
	k[Q5_0] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ50x1x1AVX2, {1, 2}: dotQ50x1x2AVX2, {2, 1}: dotQ50x2x1AVX2, {2, 2}: dotQ50x2x2AVX2, {4, 1}: dotQ50x4x1AVX2,
	}), rowLoop: dotQ50RowsAVX2}
	k[Q5_1] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ51x1x1AVX2, {1, 2}: dotQ51x1x2AVX2, {2, 1}: dotQ51x2x1AVX2, {2, 2}: dotQ51x2x2AVX2, {4, 1}: dotQ51x4x1AVX2,
	}), rowLoop: dotQ51RowsAVX2}
	k[IQ4_NL] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotIQ4NLx1x1AVX2, {1, 2}: dotIQ4NLx1x2AVX2, {2, 1}: dotIQ4NLx2x1AVX2, {2, 2}: dotIQ4NLx2x2AVX2, {4, 1}: dotIQ4NLx4x1AVX2,
	}), rowLoop: dotIQ4NLRowsAVX2}
	k[Q2_K] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ2Kx1x1AVX2, {1, 2}: dotQ2Kx1x2AVX2, {1, 3}: dotQ2Kx1x3AVX2, {2, 1}: dotQ2Kx2x1AVX2, {2, 2}: dotQ2Kx2x2AVX2, {4, 1}: dotQ2Kx4x1AVX2,
	}), rowLoop: dotQ2KRowsAVX2}
	k[Q3_K] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ3Kx1x1AVX2, {1, 2}: dotQ3Kx1x2AVX2, {1, 3}: dotQ3Kx1x3AVX2, {2, 1}: dotQ3Kx2x1AVX2, {2, 2}: dotQ3Kx2x2AVX2, {4, 1}: dotQ3Kx4x1AVX2,
	}), rowLoop: dotQ3KRowsAVX2}
	k[Q4_K] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ4Kx1x1AVX2, {1, 2}: dotQ4Kx1x2AVX2, {1, 3}: dotQ4Kx1x3AVX2, {2, 1}: dotQ4Kx2x1AVX2, {2, 2}: dotQ4Kx2x2AVX2, {4, 1}: dotQ4Kx4x1AVX2,
	}), rowLoop: dotQ4KRowsAVX2}
	k[Q5_K] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ5Kx1x1AVX2, {1, 2}: dotQ5Kx1x2AVX2, {1, 3}: dotQ5Kx1x3AVX2, {2, 1}: dotQ5Kx2x1AVX2, {2, 2}: dotQ5Kx2x2AVX2, {4, 1}: dotQ5Kx4x1AVX2,
	}), rowLoop: dotQ5KRowsAVX2}
	k[Q6_K] = q8Kernels{rowsVec: 4, rows: 2, cols: 2, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ6Kx1x1AVX2, {1, 2}: dotQ6Kx1x2AVX2, {1, 3}: dotQ6Kx1x3AVX2, {2, 1}: dotQ6Kx2x1AVX2, {2, 2}: dotQ6Kx2x2AVX2, {4, 1}: dotQ6Kx4x1AVX2,
	}), rowLoop: dotQ6KRowsAVX2}
	return k
}

// avx512Impl uses 512-bit AVX-512 instructions (F, BW, VL), and VNNI for
// Q8_0 and the tiles of vnniQuants where present (supportedImpls replaces
// them otherwise).
var avx512Impl = &impl{
	name:  "avx512",
	level: levelAVX512,
	f32: floatKernels{rowsVec: 4, rows: 4, cols: 4, tile: tiles(map[[2]int]floatKern{
		{1, 1}: dotF32x1x1AVX512, {1, 2}: dotF32x1x2AVX512, {1, 3}: dotF32x1x3AVX512, {1, 4}: dotF32x1x4AVX512,
		{2, 1}: dotF32x2x1AVX512, {2, 2}: dotF32x2x2AVX512, {2, 3}: dotF32x2x3AVX512, {2, 4}: dotF32x2x4AVX512,
		{4, 1}: dotF32x4x1AVX512, {4, 2}: dotF32x4x2AVX512, {4, 3}: dotF32x4x3AVX512, {4, 4}: dotF32x4x4AVX512,
	}), rowLoop: dotF32RowsAVX512, panel: dotF32Panel4x4AVX512},
	f16: floatKernels{rowsVec: 4, rows: 4, cols: 4, tile: tiles(map[[2]int]floatKern{
		{1, 1}: dotF16x1x1AVX512, {1, 2}: dotF16x1x2AVX512, {1, 3}: dotF16x1x3AVX512, {1, 4}: dotF16x1x4AVX512,
		{2, 1}: dotF16x2x1AVX512, {2, 2}: dotF16x2x2AVX512, {2, 3}: dotF16x2x3AVX512, {2, 4}: dotF16x2x4AVX512,
		{4, 1}: dotF16x4x1AVX512, {4, 2}: dotF16x4x2AVX512, {4, 3}: dotF16x4x3AVX512, {4, 4}: dotF16x4x4AVX512,
	}), rowLoop: dotF16RowsAVX512, panel: dotF16Panel4x4AVX512},
	bf16: floatKernels{rowsVec: 4, rows: 4, cols: 4, tile: tiles(map[[2]int]floatKern{
		{1, 1}: dotBF16x1x1AVX512, {1, 2}: dotBF16x1x2AVX512, {1, 3}: dotBF16x1x3AVX512, {1, 4}: dotBF16x1x4AVX512,
		{2, 1}: dotBF16x2x1AVX512, {2, 2}: dotBF16x2x2AVX512, {2, 3}: dotBF16x2x3AVX512, {2, 4}: dotBF16x2x4AVX512,
		{4, 1}: dotBF16x4x1AVX512, {4, 2}: dotBF16x4x2AVX512, {4, 3}: dotBF16x4x3AVX512, {4, 4}: dotBF16x4x4AVX512,
	}), rowLoop: dotBF16RowsAVX512, panel: dotBF16Panel4x4AVX512},
	q8: q8Kernels{rowsVec: 4, rows: 4, cols: 4, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: q8x1x1VNNI, {1, 2}: q8x1x2VNNI, {1, 3}: q8x1x3VNNI, {1, 4}: q8x1x4VNNI,
		{2, 1}: q8x2x1VNNI, {2, 2}: q8x2x2VNNI, {2, 3}: q8x2x3VNNI, {2, 4}: q8x2x4VNNI,
		{4, 1}: q8x4x1VNNI, {4, 2}: q8x4x2VNNI, {4, 3}: q8x4x3VNNI, {4, 4}: q8x4x4VNNI,
	})},
	quant:     avx512Quants(true),
	widen:     widenAVX512,
	streamRow: 1 << 30, // every row
}

// widenAVX2 adapts the generated AVX2 conversions to impl.widen.
func widenAVX2(dst *float32, src *uint16, n int, bf bool) {
	if bf {
		widenBF16AVX2(dst, src, n)
	} else {
		widenF16AVX2(dst, src, n)
	}
}

// widenAVX512 adapts the generated AVX-512 conversions to impl.widen.
func widenAVX512(dst *float32, src *uint16, n int, bf bool) {
	if bf {
		widenBF16AVX512(dst, src, n)
	} else {
		widenF16AVX512(dst, src, n)
	}
}

// tiles builds a tile table from a map keyed by {R, C}.
func tiles[K any](m map[[2]int]K) (t [maxTileRows + 1][maxTileCols + 1]K) {
	for rc, k := range m {
		t[rc[0]][rc[1]] = k
	}
	return t
}

// hasAVX2 and hasAVX512 report the CPU features each implementation needs.
func hasAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

func hasAVX512() bool {
	return hasAVX2() && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
}

// supportedImpls lists the implementations this CPU can run, generic first.
func supportedImpls() []*impl {
	s := []*impl{genericImpl}
	if hasAVX2() {
		s = append(s, avx2Impl)
	}
	if hasAVX512() {
		im := *avx512Impl
		if !cpu.X86.HasAVX512VNNI {
			im.name, im.q8, im.quant = "avx512-novnni", avx2Impl.q8, avx512Quants(false)
		}
		s = append(s, &im)
	}
	return s
}

// bestImpl returns the fastest implementation this CPU supports.
func bestImpl() *impl {
	s := supportedImpls()
	return s[len(s)-1]
}

// dot1x1 computes one F32 dot product (see floatKern) without an indirect
// call, so that its stack arguments do not escape.
func dot1x1(im *impl, a *float32, b *float32, k int, tail, out *float32) {
	w := (*byte)(unsafe.Pointer(a))
	switch im.level {
	case levelAVX512:
		dotF32x1x1AVX512(w, 0, b, 0, k, tail, out, 0)
	case levelAVX2:
		dotF32x1x1AVX2(w, 0, b, 0, k, tail, out, 0)
	default:
		genericF32(w, 0, b, 0, k, tail, out, 0)
	}
}

// expVec sets dst[i] = exp32(src[i]) for n (a multiple of 16) values.
func expVec(im *impl, dst, src *float32, n int) {
	switch im.level {
	case levelAVX512:
		expAVX512(dst, src, n)
	case levelAVX2:
		expAVX2(dst, src, n)
	default:
		genericExp(unsafe.Slice(dst, n), unsafe.Slice(src, n))
	}
}

// accumVec is the attention value update (see genericAttnAccum); d must be
// a multiple of accumWidth(im).
func accumVec(im *impl, acc, p, v *float32, vstride uintptr, n, d int, alpha float32) {
	switch im.level {
	case levelAVX512:
		attnAccumAVX512(acc, p, v, vstride, n, d, alpha)
	case levelAVX2:
		attnAccumAVX2(acc, p, v, vstride, n, d, alpha)
	default:
		genericAttnAccum(acc, p, v, vstride, n, d, alpha)
	}
}

// accumWidth is the multiple of the head size accumVec needs.
func accumWidth(im *impl) int {
	switch im.level {
	case levelAVX512:
		return 16
	case levelAVX2:
		return 8
	}
	return 1
}

// expShiftSum sets x[i] = exp32(x[i]-shift) for n (a multiple of 16)
// values and adds each to lane i%16 of acc, in order.
func expShiftSum(im *impl, x *float32, n int, shift float32, acc *[lanes]float32) {
	switch im.level {
	case levelAVX512:
		expShiftSumAVX512(x, n, shift, &acc[0])
	case levelAVX2:
		expShiftSumAVX2(x, n, shift, &acc[0])
	default:
		genericExpShiftSum(unsafe.Slice(x, n), shift, acc)
	}
}

// attnScores computes out[h*16+t] = q_h · k_t (see AttnState) with a
// dedicated kernel when im has one for this key type and head size, and
// reports whether it did.
func attnScores(im *impl, t DType, q *float32, heads int, k unsafe.Pointer, kstride uintptr, n, d int, out *float32) bool {
	kb := (*byte)(k)
	switch {
	case im.level == levelAVX2 && d == 64 && t == F32:
		attnScoresF32D64AVX2(q, heads, kb, kstride, n, out)
	case im.level == levelAVX2 && d == 64 && t == F16:
		attnScoresF16D64AVX2(q, heads, kb, kstride, n, out)
	case im.level == levelAVX512 && d == 64 && t == F32:
		attnScoresF32D64AVX512(q, heads, kb, kstride, n, out)
	case im.level == levelAVX512 && d == 64 && t == F16:
		attnScoresF16D64AVX512(q, heads, kb, kstride, n, out)
	case im.level == levelAVX512 && d == 128 && t == F32:
		attnScoresF32D128AVX512(q, heads, kb, kstride, n, out)
	case im.level == levelAVX512 && d == 128 && t == F16:
		attnScoresF16D128AVX512(q, heads, kb, kstride, n, out)
	default:
		return false
	}
	return true
}

// dequantRowsVec dequantizes rows of quantized values (see dequantRows)
// with a vector kernel when im has one for t, and reports whether it did.
func dequantRowsVec(im *impl, t DType, dst *float32, src *byte, stride uintptr, rows, d int) bool {
	if d%Q8Block != 0 {
		return false
	}
	nb := d / Q8Block
	switch {
	case im.level == levelAVX512 && t == Q8_0:
		dequantRowsQ80AVX512(dst, src, stride, rows, nb)
	case im.level == levelAVX512 && t == Q4_0:
		dequantRowsQ40AVX512(dst, src, stride, rows, nb)
	case im.level == levelAVX2 && t == Q8_0:
		dequantRowsQ80AVX2(dst, src, stride, rows, nb)
	case im.level == levelAVX2 && t == Q4_0:
		dequantRowsQ40AVX2(dst, src, stride, rows, nb)
	default:
		return false
	}
	return true
}
