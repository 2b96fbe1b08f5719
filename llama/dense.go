package llama

import (
	"fmt"

	"sieve/kernels"
	"sieve/model"
)

// DenseCache is a contiguous float32 KV cache: for each sequence slot and
// layer, one row per position. It is the simple, exact reference that paged
// caches are tested against, and serves single-sequence generation.
type DenseCache struct {
	cfg   model.Config
	pool  *kernels.Pool
	ctx   int
	k, v  [][]float32 // [slot*layers+layer] → ctx×KVDim
	scale float32
	// Weights, when set, receives every query head's attention weights
	// (softmax over positions 0..pos). Setting it slows attention down. w
	// is reused for the next call and must not be retained.
	Weights func(layer, token, head int, w []float32)

	task   denseTask
	states []*kernels.AttnState // one per pool worker
}

// NewDenseCache allocates a cache for seqs sequences of up to ctx positions.
func NewDenseCache(cfg model.Config, pool *kernels.Pool, seqs, ctx int) *DenseCache {
	d := &DenseCache{cfg: cfg, pool: pool, ctx: ctx, scale: kernels.AttnScale(cfg.HeadDim)}
	d.states = make([]*kernels.AttnState, pool.Threads())
	for i := range d.states {
		d.states[i] = kernels.NewAttnState(cfg.Heads/cfg.KVHeads, cfg.HeadDim)
	}
	d.k = make([][]float32, seqs*cfg.Layers)
	d.v = make([][]float32, seqs*cfg.Layers)
	for i := range d.k {
		d.k[i] = make([]float32, ctx*cfg.KVDim())
		d.v[i] = make([]float32, ctx*cfg.KVDim())
	}
	return d
}

// Attend implements Attention. Sequence ids are slot numbers in [0, seqs).
func (d *DenseCache) Attend(layer int, b *Batch, q, k, v, out []float32) {
	kvDim := d.cfg.KVDim()
	for i := range b.Tokens {
		p := int(b.Pos[i])
		if p >= d.ctx {
			panic(fmt.Sprintf("llama: position %d beyond dense cache of %d", p, d.ctx))
		}
		s := int(b.Seq[i])*d.cfg.Layers + layer
		copy(d.k[s][p*kvDim:(p+1)*kvDim], k[i*kvDim:(i+1)*kvDim])
		copy(d.v[s][p*kvDim:(p+1)*kvDim], v[i*kvDim:(i+1)*kvDim])
	}
	d.task = denseTask{d: d, layer: layer, b: b, q: q, out: out}
	d.pool.Run(b.Len()*d.cfg.KVHeads, &d.task)
	if d.Weights != nil {
		d.reportWeights(layer, b, q)
	}
}

type denseTask struct {
	d      *DenseCache
	layer  int
	b      *Batch
	q, out []float32
}

// Range implements kernels.Task: it attends for (token, KV head) pairs lo..hi with worker w's
// state, one fused pass of the group's query heads over the rows 0..pos
// of the KV head.
func (t *denseTask) Range(w, lo, hi int) {
	d := t.d
	c := d.cfg
	hd, kvDim, group := c.HeadDim, c.KVDim(), c.Heads/c.KVHeads
	st := d.states[w]
	for j := lo; j < hi; j++ {
		i, kh := j/c.KVHeads, j%c.KVHeads
		s := int(t.b.Seq[i])*c.Layers + t.layer
		n := int(t.b.Pos[i]) + 1
		h0 := i*c.Heads + kh*group
		st.Reset()
		st.AttendF32(t.q[h0*hd:(h0+group)*hd], d.k[s][kh*hd:], d.v[s][kh*hd:], kvDim, n, d.scale, nil)
		st.Finish(t.out[h0*hd : (h0+group)*hd])
	}
}

// reportWeights recomputes the attention weights explicitly for the observer.
func (d *DenseCache) reportWeights(layer int, b *Batch, q []float32) {
	c := d.cfg
	hd, kvDim, group := c.HeadDim, c.KVDim(), c.Heads/c.KVHeads
	var buf []float32
	for i := range b.Tokens {
		s := int(b.Seq[i])*c.Layers + layer
		n := int(b.Pos[i]) + 1
		if cap(buf) < n {
			buf = make([]float32, n)
		}
		w := buf[:n]
		for h := 0; h < c.Heads; h++ {
			kh := h / group
			qh := q[(i*c.Heads+h)*hd : (i*c.Heads+h+1)*hd]
			for p := 0; p < n; p++ {
				off := p*kvDim + kh*hd
				w[p] = kernels.Dot(qh, d.k[s][off:off+hd]) * d.scale
			}
			kernels.Softmax(w)
			d.Weights(layer, i, h, w)
		}
	}
}
