//go:build !amd64 || purego

package kernels

import "unsafe"

// bestImpl returns the only implementation of this build: the generic one.
func bestImpl() *impl { return genericImpl }

// supportedImpls lists the implementations this CPU can run.
func supportedImpls() []*impl { return []*impl{genericImpl} }

// dot1x1 computes one F32 dot product (see floatKern) without an indirect call.
func dot1x1(_ *impl, a *float32, b *float32, k int, tail, out *float32) {
	genericF32((*byte)(unsafe.Pointer(a)), 0, b, 0, k, tail, out, 0)
}

// expVec sets dst[i] = exp32(src[i]) for n values.
func expVec(_ *impl, dst, src *float32, n int) {
	genericExp(unsafe.Slice(dst, n), unsafe.Slice(src, n))
}

// accumVec is the attention value update (see genericAttnAccum).
func accumVec(_ *impl, acc, p, v *float32, vstride uintptr, n, d int, alpha float32) {
	genericAttnAccum(acc, p, v, vstride, n, d, alpha)
}

// accumWidth is the multiple of the head size accumVec needs.
func accumWidth(*impl) int { return 1 }

// expShiftSum sets x[i] = exp32(x[i]-shift) and adds each to lane i%16 of acc.
func expShiftSum(_ *impl, x *float32, n int, shift float32, acc *[lanes]float32) {
	genericExpShiftSum(unsafe.Slice(x, n), shift, acc)
}

// attnScores reports that no dedicated score kernel exists in this build.
func attnScores(*impl, DType, *float32, int, unsafe.Pointer, uintptr, int, int, *float32) bool {
	return false
}

// dequantRowsVec reports that no vector dequantization exists in this build.
func dequantRowsVec(*impl, DType, *float32, *byte, uintptr, int, int) bool { return false }
