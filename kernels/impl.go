package kernels

// floatKern computes a tile of dot products between R weight rows and C
// float32 inputs (R and C fixed per kernel): for r < R and c < C,
//
//	out[c*ostride + r*4 bytes] = row r · input c
//
// where row r starts at w + r*wstride and input c at x + c*xstride (byte
// strides). k, a multiple of 16, is the number of values read in place; if
// tail is not nil it holds one more 16-value step for the rows and then the
// inputs ((R+C)*16 float32, zero-padded), converted to float32.
type floatKern func(w *byte, wstride uintptr, x *float32, xstride uintptr, k int, tail *float32, out *float32, ostride uintptr)

// q8Kern computes a tile of dot products between R quantized weight rows
// of nb blocks and C activations quantized by quantizeActQ8 (32-value
// blocks) or quantizeActQ8K (256-value blocks) (row r at
// w + r*wstride, activation c at a + c*astride), writing them like floatKern.
type q8Kern func(w *byte, wstride uintptr, a *byte, astride uintptr, nb int, out *float32, ostride uintptr)

// floatRows computes out[i] = row i · x for rows rows (wstride bytes apart)
// and one float32 input, k a multiple of 16, with the arithmetic of the
// 1×1 tile: a matrix-vector loop without a call per row.
type floatRows func(w *byte, wstride uintptr, x *float32, k int, rows int, out *float32)

// floatPanel computes R×C tiles (the kernel set's rows × cols) of float
// weights down rows rows (a multiple of R) with the same C inputs over k
// values, k a positive multiple of 16, with the tile kernel's bits. The k
// values may be one block of longer dot products: mode panelStart starts
// the tiles' lane sums at zero rather than reading them from acc, and
// panelFinish reduces them into out rather than writing them back to acc
// (R×C×16 floats per tile).
type floatPanel func(w *byte, wstride uintptr, x *float32, xstride uintptr, k int, rows int, out *float32, ostride uintptr, acc *float32, mode int)

// floatPanel modes.
const (
	panelStart  = 1
	panelFinish = 2
)

// q8Rows is floatRows for quantized rows of nb blocks and one quantized activation.
type q8Rows func(w *byte, wstride uintptr, a *byte, nb int, rows int, out *float32)

// Largest tile sizes any variant provides.
const (
	maxTileRows = 4
	maxTileCols = 6
)

// tileKernels is one variant's tile kernels for a weight type: tile kernels
// of type K and the row loop of type L.
type tileKernels[K floatKern | q8Kern, L any] struct {
	tile [maxTileRows + 1][maxTileCols + 1]K // [R][C]; nil where absent
	// rowsVec is the tile height for a single input; rows and cols the
	// tile for several inputs.
	rowsVec, rows, cols int
	// rowLoop, when not nil, runs 1×1 tiles over many rows in one call.
	rowLoop L
	// panel, when not nil, runs rows×cols tiles down many rows in one call
	// (float types only).
	panel floatPanel
}

// floatKernels is one variant's tile kernels for a float weight type.
type floatKernels = tileKernels[floatKern, floatRows]

// q8Kernels is one variant's tile kernels for a quantized weight type.
type q8Kernels = tileKernels[q8Kern, q8Rows]

// impl is one implementation of the kernels for a CPU feature level. All
// implementations give bit-identical results (see reduce.go).
type impl struct {
	name           string
	f32, f16, bf16 floatKernels
	q8             q8Kernels
	// quant holds the kernels of the other quantized types, indexed by
	// type; an empty entry falls back to the generic implementation's.
	quant [numDTypes]q8Kernels
	// streamRow is the longest row, in bytes, that a matrix-vector
	// product reads one row at a time. One row read as one sequential
	// stream keeps the hardware prefetcher ahead, where a multi-row tile
	// splits the sweep into several streams: on Zen 3 (AVX2) that loses a
	// third to a half of the bandwidth over short rows but gains over rows
	// longer than 3 KiB; on the AVX-512 machines measured, one row at a
	// time is as fast or faster at every length (BenchmarkMatMul's
	// small-vocab and 1b-ffn-down shapes show both).
	streamRow int
	// widen converts n F16 (bf false) or BF16 (bf true) values to float32;
	// n must be a multiple of 16 except for the generic implementation.
	widen func(dst *float32, src *uint16, n int, bf bool)
	// level identifies the implementation for direct calls (dispatch_*.go).
	level int
}

// floats returns the kernels for float weight type t.
func (im *impl) floats(t DType) *floatKernels {
	switch t {
	case F32:
		return &im.f32
	case F16:
		return &im.f16
	case BF16:
		return &im.bf16
	}
	panic("kernels: no float kernels for " + t.String())
}

// quants returns the kernels for quantized weight type t.
func (im *impl) quants(t DType) *q8Kernels {
	if t == Q8_0 {
		return &im.q8
	}
	if k := &im.quant[t]; k.tile[1][1] != nil {
		return k
	}
	return &genericImpl.quant[t]
}

// pick returns the largest R' <= r and then C' <= c with a kernel.
func (k *tileKernels[K, L]) pick(r, c int) (int, int) {
	for rr := min(r, maxTileRows); rr > 0; rr-- {
		if k.tile[rr][1] == nil {
			continue
		}
		for cc := min(c, maxTileCols); cc > 0; cc-- {
			if k.tile[rr][cc] != nil {
				return rr, cc
			}
		}
	}
	panic("kernels: no tile kernel")
}
