package kernels

import (
	"fmt"
	"unsafe"
)

// rowBlockBytes bounds the float32 weights of the rows that one tile of
// inputs is swept across, so that they stay in the L2 cache.
const rowBlockBytes = 256 << 10

// vecRows returns the tile height of a matrix-vector product with rows of
// rowBytes bytes, given the variant's multi-row height and the longest row
// it reads one row at a time (impl.streamRow).
func vecRows(rowsVec, rowBytes, streamRow int) int {
	if rowBytes <= streamRow {
		return 1
	}
	return rowsVec
}

// MatMul computes, for each of the n inputs x[b*Cols:(b+1)*Cols],
// out[b*Rows+r] = m.Row(r) · x_b. Each output's bits depend only on its row
// and input, never on n or the thread count (see reduce.go for the order).
// With a non-nil Pool it allocates nothing once the pool's scratch has grown
// to the largest shape used.
func MatMul(p *Pool, out []float32, m Mat, x []float32, n int) {
	matMuls(active, p, x, n, [maxProducts]Product{{Out: out, M: m}})
}

// Product is one matrix of a fused product and the buffer for its outputs.
type Product struct {
	Out []float32
	M   Mat
}

// MatMul2 is MatMul for two matrices of the same type and width applied to
// the same inputs (a gate and an up projection): one pass of the pool, and
// for quantized weights one quantization of the inputs.
func MatMul2(p *Pool, x []float32, n int, a, b Product) {
	matMuls(active, p, x, n, [maxProducts]Product{a, b})
}

// MatMul3 is MatMul2 for three matrices (query, key and value projections).
func MatMul3(p *Pool, x []float32, n int, a, b, c Product) {
	matMuls(active, p, x, n, [maxProducts]Product{a, b, c})
}

// maxProducts is the most matrices one fused product takes.
const maxProducts = 3

// mulTask is one matrix product, or a few fused ones, split over row tiles.
type mulTask struct {
	im    *impl
	p     *Pool
	prods [maxProducts]Product
	first [maxProducts + 1]int // first tile of each product, then the total
	np    int                  // products in use
	x     []float32
	act   []byte // quantized inputs for quantized weights
	n     int
	rows  int        // rows per tile
	cols  int        // inputs per tile
	panel floatPanel // the float rows' panel kernel, when it runs the product
	pack  bool
	quant bool // the pass quantizes the inputs rather than multiplying
}

// matMul is MatMul with implementation im.
func matMul(im *impl, p *Pool, out []float32, m Mat, x []float32, n int) {
	matMuls(im, p, x, n, [maxProducts]Product{{Out: out, M: m}})
}

// matMuls computes prods (a zero Product is skipped) over the same n
// inputs. Products of different types or widths run one by one.
func matMuls(im *impl, p *Pool, x []float32, n int, prods [maxProducts]Product) {
	m := prods[0].M
	for _, q := range prods[1:] {
		if q.M.Rows > 0 && (q.M.Type != m.Type || q.M.Cols != m.Cols) {
			for _, q := range prods {
				matMuls(im, p, x, n, [maxProducts]Product{q})
			}
			return
		}
	}
	if n <= 0 {
		return
	}
	var t *mulTask
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		t = &p.mm
	} else {
		t = new(mulTask)
	}
	*t = mulTask{im: im, p: p, x: x, n: n}
	for _, q := range prods {
		if q.M.Rows == 0 {
			continue
		}
		if len(q.Out) < n*q.M.Rows || len(x) < n*q.M.Cols || len(q.M.Data) < q.M.Rows*q.M.Type.RowBytes(q.M.Cols) {
			panic(fmt.Sprintf("kernels: MatMul of %v %dx%d with %d inputs: out %d, x %d, data %d",
				q.M.Type, q.M.Rows, q.M.Cols, n, len(q.Out), len(x), len(q.M.Data)))
		}
		t.prods[t.np] = q
		t.np++
	}
	if t.np == 0 {
		return
	}
	if m.Cols == 0 {
		for _, q := range t.prods[:t.np] {
			clear(q.Out[:n*q.M.Rows])
		}
		*t = mulTask{}
		return
	}
	if !m.Type.Float() {
		if bs := m.Type.BlockSize(); m.Cols%bs != 0 {
			panic(fmt.Sprintf("kernels: %v matrix width %d not a multiple of %d", m.Type, m.Cols, bs))
		}
		ab := actBytes(m.Type, m.Cols)
		if p != nil {
			if cap(p.act) < n*ab {
				p.act = make([]byte, n*ab)
			}
			t.act = p.act[:n*ab]
		} else {
			t.act = make([]byte, n*ab)
		}
		t.quant = true
		if p == nil || n == 1 {
			t.quantRange(0, n)
		} else {
			p.run(n, t)
		}
		t.quant = false
		qk := im.quants(m.Type)
		t.rows, t.cols = qk.rows, qk.cols
		if n == 1 {
			t.rows = vecRows(qk.rowsVec, m.Type.RowBytes(m.Cols), im.streamRow)
		}
	} else {
		fk := im.floats(m.Type)
		t.rows, t.cols = fk.rows, fk.cols
		if n == 1 {
			t.rows = vecRows(fk.rowsVec, m.Type.RowBytes(m.Cols), im.streamRow)
		}
		if n >= fk.cols && m.Cols%lanes == 0 {
			t.panel = fk.panel
		}
		t.pack = m.Type != F32 && n > t.cols && im.f32.rows == t.rows && t.panel == nil
	}
	for i, q := range t.prods[:t.np] {
		t.first[i+1] = t.first[i] + (q.M.Rows+t.rows-1)/t.rows
	}
	if p == nil {
		t.Range(0, 0, t.first[t.np])
	} else {
		p.run(t.first[t.np], t)
	}
	*t = mulTask{}
}

// scratch returns worker w's scratch of n floats.
func (t *mulTask) scratch(w, n int) []float32 {
	if t.p == nil {
		return make([]float32, n)
	}
	return t.p.scratchFor(w, n)
}

// Range computes row tiles [lo, hi), numbered across the products,
// with worker w's scratch; in the quantizing pass, inputs [lo, hi).
func (t *mulTask) Range(w, lo, hi int) {
	if t.quant {
		t.quantRange(lo, hi)
		return
	}
	for i, q := range t.prods[:t.np] {
		a, b := max(lo, t.first[i]), min(hi, t.first[i+1])
		if a >= b {
			continue
		}
		r0, r1 := (a-t.first[i])*t.rows, min((b-t.first[i])*t.rows, q.M.Rows)
		if !q.M.Type.Float() {
			t.q8Range(q, r0, r1)
		} else {
			t.floatRange(w, q, r0, r1)
		}
	}
}

// quantRange quantizes inputs [lo, hi) into t.act.
func (t *mulTask) quantRange(lo, hi int) {
	m := t.prods[0].M
	k, ab := m.Cols, actBytes(m.Type, m.Cols)
	for b := lo; b < hi; b++ {
		if m.Type.kQuant() {
			quantizeActQ8KWith(t.im, t.act[b*ab:(b+1)*ab], t.x[b*k:(b+1)*k])
		} else {
			quantizeActQ8With(t.im, t.act[b*ab:(b+1)*ab], t.x[b*k:(b+1)*k])
		}
	}
}

// actBytes returns the size of one quantized input of cols values for a
// product with weights of quantized type t.
func actBytes(t DType, cols int) int {
	if t.kQuant() {
		return q8kActBytes(cols)
	}
	return q8ActBytes(cols)
}

// panelK is the longest block of a dot product that the panel kernel
// takes at once: the inputs of one column tile over it stay in the L1
// cache beside the rows streaming through. (On Zen 3, BenchmarkMatMul's
// small-ffn-down and 1b-ffn-down shapes at n=512 ran about a fifth faster
// with 1024 here than with 512 or 2048.)
const panelK = 1024

// panelAccBytes bounds the spilled lane sums of one block of columns.
const panelAccBytes = 192 << 10

// floatRange computes rows [r0, r1) of a float-weight product. Rows are
// taken in blocks whose weights fit the L2 cache; within a block, each tile
// of inputs (small enough for L1) is swept over all its row tiles.
func (t *mulTask) floatRange(w int, q Product, r0, r1 int) {
	if t.panel != nil {
		t.panelRange(w, q, r0, r1)
		return
	}
	m, k := q.M, q.M.Cols
	rb := m.Type.RowBytes(k)
	fk := t.im.floats(m.Type)
	tailLen := 0
	if k%lanes != 0 {
		tailLen = (maxTileRows + maxTileCols) * lanes
	}
	mc := max(t.rows, rowBlockBytes/(4*k)/t.rows*t.rows)
	var buf []float32
	if t.pack {
		buf = t.scratch(w, mc*k+tailLen)
		fk = &t.im.f32
	} else if tailLen > 0 {
		buf = t.scratch(w, tailLen)
	}
	tail := buf[len(buf)-tailLen:]
	for r := r0; r < r1; r += mc {
		rr := min(mc, r1-r)
		wp, ws, wt := unsafe.Pointer(&m.Data[r*rb]), uintptr(rb), m.Type
		if t.pack {
			widenSlice(t.im, buf[:rr*k], unsafe.Slice((*uint16)(wp), rr*k), m.Type == BF16)
			wp, ws, wt = unsafe.Pointer(&buf[0]), uintptr(4*k), F32
		}
		for c := 0; c < t.n; c += t.cols {
			dotTiles(fk, wt, wp, ws, rr, t.rows, t.x[c*k:], k, min(t.cols, t.n-c), k, q.Out[c*m.Rows+r:], m.Rows, tail)
		}
	}
}

// panelRange is floatRange through the panel kernel, which reads the rows
// in their stored type: rows in blocks whose weights over one block of at
// most panelK values fit the L2 cache,
// inputs in blocks whose spilled lane sums fit beside them, and for each
// block of values every column tile swept down the row block. Rows and
// inputs left over from whole tiles go through dotTiles.
func (t *mulTask) panelRange(w int, q Product, r0, r1 int) {
	m, k := q.M, q.M.Cols
	fk := t.im.floats(m.Type)
	R, C := fk.rows, fk.cols
	rb, es := m.Type.RowBytes(k), m.Type.RowBytes(lanes)/lanes
	kc := min(k, panelK)
	mc := max(R, rowBlockBytes/(es*kc)/R*R)
	nc := C * max(1, panelAccBytes/(mc*C*lanes*4))
	var acc []float32 // spilled lane sums, when k takes several blocks
	if kc < k {
		acc = t.scratch(w, mc*nc*lanes)
	}
	nfull := t.n / C * C
	for r := r0; r < r1; r += mc {
		rr := min(mc, r1-r)
		full := rr / R * R
		wp := unsafe.Pointer(&m.Data[r*rb])
		for c0 := 0; c0 < nfull && full > 0; c0 += nc {
			c1 := min(nfull, c0+nc)
			for kb := 0; kb < k; kb += kc {
				mode := 0
				if kb == 0 {
					mode |= panelStart
				}
				if kb+kc >= k {
					mode |= panelFinish
				}
				for c := c0; c < c1; c += C {
					var a *float32
					if acc != nil {
						a = &acc[(c-c0)/C*full*C*lanes]
					}
					t.panel((*byte)(unsafe.Add(wp, es*kb)), uintptr(rb), &t.x[c*k+kb], uintptr(4*k), min(kc, k-kb), full,
						&q.Out[c*m.Rows+r], uintptr(4*m.Rows), a, mode)
				}
			}
		}
		if full < rr {
			dotTiles(fk, m.Type, unsafe.Add(wp, full*rb), uintptr(rb), rr-full, R, t.x, k, t.n, k, q.Out[r+full:], m.Rows, nil)
		}
		if nfull < t.n && full > 0 {
			dotTiles(fk, m.Type, wp, uintptr(rb), full, R, t.x[nfull*k:], k, t.n-nfull, k, q.Out[nfull*m.Rows+r:], m.Rows, nil)
		}
	}
}

// dotTiles computes out[c*ostride+r] = row r · x[c*xstride:][:k] for rows
// rows of type t (row r at w + r*ws bytes) and cols inputs, with the tile
// kernels fk, at most tileRows rows per tile (the register-blocked GEMM
// tile is shorter than the matrix-vector one). tail is scratch for the
// tail step when k is not a multiple of 16.
func dotTiles(fk *floatKernels, t DType, w unsafe.Pointer, ws uintptr, rows, tileRows int, x []float32, xstride, cols, k int, out []float32, ostride int, tail []float32) {
	k16 := k &^ (lanes - 1)
	if tileRows == 1 && cols == 1 && k16 == k && fk.rowLoop != nil {
		fk.rowLoop((*byte)(w), ws, &x[0], k, rows, &out[0])
		return
	}
	for r := 0; r < rows; {
		ri, cmax := fk.pick(min(rows-r, tileRows), maxTileCols)
		wr := unsafe.Add(w, uintptr(r)*ws)
		if k16 != k {
			tailRows(tail, t, wr, ws, ri, k16, k)
		}
		for c := 0; c < cols; {
			_, ci := fk.pick(ri, min(cmax, cols-c))
			var tp *float32
			if k16 != k {
				tailCols(tail[ri*lanes:], x[c*xstride:], xstride, ci, k16, k)
				tp = &tail[0]
			}
			fk.tile[ri][ci]((*byte)(wr), ws, &x[c*xstride], uintptr(4*xstride), k16, tp,
				&out[c*ostride+r], uintptr(4*ostride))
			c += ci
		}
		r += ri
	}
}

// tailRows writes the rows part of an R×C tile's zero-padded tail step:
// values k16..k-1 of each of rows rows of type t (ws bytes apart from w).
// The rows part stays valid for every column tile of the row tile.
func tailRows(tail []float32, t DType, w unsafe.Pointer, ws uintptr, rows, k16, k int) {
	clear(tail[:rows*lanes])
	for r := range rows {
		dst := tail[r*lanes : r*lanes+k-k16]
		row := unsafe.Add(w, uintptr(r)*ws)
		switch t {
		case F32:
			copy(dst, unsafe.Slice((*float32)(row), k)[k16:])
		case F16:
			for j, v := range unsafe.Slice((*uint16)(row), k)[k16:] {
				dst[j] = F16ToF32(v)
			}
		case BF16:
			for j, v := range unsafe.Slice((*uint16)(row), k)[k16:] {
				dst[j] = BF16ToF32(v)
			}
		}
	}
}

// tailCols writes the inputs part of the tail step, after the rows part:
// values k16..k-1 of each of cols inputs (xstride apart), zero-padded.
func tailCols(tail, x []float32, xstride, cols, k16, k int) {
	clear(tail[:cols*lanes])
	for c := range cols {
		copy(tail[c*lanes:c*lanes+k-k16], x[c*xstride+k16:c*xstride+k])
	}
}

// q8Range computes rows [r0, r1) of a quantized product, blocked like
// floatRange.
func (t *mulTask) q8Range(q Product, r0, r1 int) {
	m := q.M
	nb := m.Cols / m.Type.BlockSize()
	rb := m.Type.RowBytes(m.Cols)
	ab := actBytes(m.Type, m.Cols)
	qk := t.im.quants(m.Type)
	mc := max(t.rows, rowBlockBytes/rb/t.rows*t.rows)
	for r := r0; r < r1; r += mc {
		re := min(r1, r+mc)
		for c := 0; c < t.n; c += t.cols {
			cc := min(t.cols, t.n-c)
			if t.rows == 1 && cc == 1 && qk.rowLoop != nil {
				qk.rowLoop(&m.Data[r*rb], uintptr(rb), &t.act[c*ab], nb, re-r, &q.Out[c*m.Rows+r])
				continue
			}
			for i := r; i < re; {
				ri, ci := qk.pick(min(re-i, t.rows), cc)
				for j := c; j < c+cc; {
					_, cj := qk.pick(ri, min(ci, c+cc-j))
					qk.tile[ri][cj](&m.Data[i*rb], uintptr(rb), &t.act[j*ab], uintptr(ab), nb,
						&q.Out[j*m.Rows+i], uintptr(4*m.Rows))
					j += cj
				}
				i += ri
			}
		}
	}
}
