package kernels

import "unsafe"

// The generic tile kernels compute one dot product (R = C = 1) in the
// reduction order of reduce.go. They are the reference for the assembly.

func genericF32(w *byte, _ uintptr, x *float32, _ uintptr, k int, tail *float32, out *float32, _ uintptr) {
	var acc [lanes]float32
	ws, xs := unsafe.Slice((*float32)(unsafe.Pointer(w)), k), unsafe.Slice(x, k)
	for i, v := range ws {
		acc[i%lanes] = fma32(v, xs[i], acc[i%lanes])
	}
	*out = finishTail(&acc, tail)
}

func genericF16(w *byte, _ uintptr, x *float32, _ uintptr, k int, tail *float32, out *float32, _ uintptr) {
	var acc [lanes]float32
	ws, xs := unsafe.Slice((*uint16)(unsafe.Pointer(w)), k), unsafe.Slice(x, k)
	for i, v := range ws {
		acc[i%lanes] = fma32(F16ToF32(v), xs[i], acc[i%lanes])
	}
	*out = finishTail(&acc, tail)
}

func genericBF16(w *byte, _ uintptr, x *float32, _ uintptr, k int, tail *float32, out *float32, _ uintptr) {
	var acc [lanes]float32
	ws, xs := unsafe.Slice((*uint16)(unsafe.Pointer(w)), k), unsafe.Slice(x, k)
	for i, v := range ws {
		acc[i%lanes] = fma32(BF16ToF32(v), xs[i], acc[i%lanes])
	}
	*out = finishTail(&acc, tail)
}

// finishTail applies the optional tail step of a 1×1 tile and sums the lanes.
func finishTail(acc *[lanes]float32, tail *float32) float32 {
	if tail != nil {
		t := unsafe.Slice(tail, 2*lanes)
		for l := range lanes {
			acc[l] = fma32(t[l], t[lanes+l], acc[l])
		}
	}
	return sum16(acc)
}

// genericWiden converts n F16 or BF16 values to float32.
func genericWiden(dst *float32, src *uint16, n int, bf bool) {
	d, s := unsafe.Slice(dst, n), unsafe.Slice(src, n)
	if bf {
		for i, v := range s {
			d[i] = BF16ToF32(v)
		}
		return
	}
	for i, v := range s {
		d[i] = F16ToF32(v)
	}
}

// genericImpl is the portable implementation, the reference for the others.
var genericImpl = &impl{
	name:  "generic",
	f32:   floatKernels{tile: oneTile[floatKern](genericF32), rowsVec: 1, rows: 1, cols: 1},
	f16:   floatKernels{tile: oneTile[floatKern](genericF16), rowsVec: 1, rows: 1, cols: 1},
	bf16:  floatKernels{tile: oneTile[floatKern](genericBF16), rowsVec: 1, rows: 1, cols: 1},
	q8:    q8Kernels{tile: oneTile(genericSmall(Q8_0)), rowsVec: 1, rows: 1, cols: 1},
	quant: genericQuants(),
	widen: genericWiden,
}

// oneTile returns a tile table holding only a 1×1 kernel.
func oneTile[K any](k K) (t [maxTileRows + 1][maxTileCols + 1]K) {
	t[1][1] = k
	return t
}
