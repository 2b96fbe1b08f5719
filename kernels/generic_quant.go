package kernels

import "unsafe"

// Generic tile kernels of the quantized types other than Q8_0, in the
// reduction order of reduce.go: the reference for their assembly.

// smallTypes and superTypes are the quantized types with 32-value and
// 256-value blocks.
var (
	smallTypes = []DType{Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL}
	superTypes = []DType{Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS}
)

// genericSmall returns the 1×1 tile for 32-value blocks of type t times
// Q8 activations (see quantizeActQ8).
func genericSmall(t DType) q8Kern {
	bb, offset := t.RowBytes(Q8Block), hasMin(t)
	return func(w *byte, _ uintptr, a *byte, _ uintptr, nb int, out *float32, _ uintptr) {
		var acc [lanes]float32
		var s smallBlock
		row := unsafe.Slice(w, nb*bb)
		act := unsafe.Slice(a, q8ActBytes(nb*Q8Block))
		for b := range nb {
			decodeSmall(t, row[b*bb:(b+1)*bb], &s)
			pair, h := act[b/2*q8PairBytes:], b%2
			xq := pair[32*h : 32*h+32]
			dx := f32s(pair[q8PairScales+32*h:])[0]
			sd, sm := s.d*dx, s.m*dx
			for l := range 8 {
				var p, xs int32
				for j := 4 * l; j < 4*l+4; j++ {
					p += int32(s.q[j]) * int32(int8(xq[j]))
					xs += int32(int8(xq[j]))
				}
				acc[8*h+l] = fma32(float32(p), sd, acc[8*h+l])
				if offset {
					acc[8*h+l] = fma32(float32(xs), sm, acc[8*h+l])
				}
			}
		}
		*out = sum16(&acc)
	}
}

// genericSuper returns the 1×1 tile for 256-value blocks of type t times
// Q8K activations (see quantizeActQ8K).
func genericSuper(t DType) q8Kern {
	bb, offset := t.RowBytes(SuperBlock), hasMin(t)
	return func(w *byte, _ uintptr, a *byte, _ uintptr, nb int, out *float32, _ uintptr) {
		var acc [superLanes]float32
		var s superBlock
		row := unsafe.Slice(w, nb*bb)
		act := unsafe.Slice(a, nb*q8kBlockBytes)
		for b := range nb {
			decodeSuper(t, row[b*bb:(b+1)*bb], &s)
			ab := act[b*q8kBlockBytes : (b+1)*q8kBlockBytes]
			dx := f32s(ab[q8kScale:])[0]
			var isum [superLanes]int32
			for j, q := range s.q {
				isum[j%32/4] += int32(s.sc[j/16]) * int32(q) * int32(int8(ab[j]))
			}
			sd := s.d * dx
			for l := range superLanes {
				acc[l] = fma32(float32(isum[l]), sd, acc[l])
			}
			if offset {
				sums := u16s(ab[q8kSums : q8kSums+32])
				sm := s.dmin * dx
				for l := range superLanes {
					m := int32(s.mn[2*l])*int32(int16(sums[2*l])) + int32(s.mn[2*l+1])*int32(int16(sums[2*l+1]))
					acc[l] = fma32(float32(-m), sm, acc[l])
				}
			}
		}
		*out = sum8(&acc)
	}
}

// genericQuants returns the generic kernels of every quantized type but
// Q8_0, indexed by type.
func genericQuants() (k [numDTypes]q8Kernels) {
	for _, t := range smallTypes {
		k[t] = q8Kernels{tile: oneTile(genericSmall(t)), rowsVec: 1, rows: 1, cols: 1}
	}
	for _, t := range superTypes {
		k[t] = q8Kernels{tile: oneTile(genericSuper(t)), rowsVec: 1, rows: 1, cols: 1}
	}
	return k
}
