package llama

import (
	"fmt"
	"math"

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
	// (softmax over positions 0..pos). Setting it slows attention down.
	Weights func(layer, token, head int, w []float32)

	task denseTask
}

// NewDenseCache allocates a cache for seqs sequences of up to ctx positions.
func NewDenseCache(cfg model.Config, pool *kernels.Pool, seqs, ctx int) *DenseCache {
	d := &DenseCache{cfg: cfg, pool: pool, ctx: ctx, scale: attnScale(cfg.HeadDim)}
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

// Range attends for (token, KV head) pairs lo..hi.
func (t *denseTask) Range(lo, hi int) {
	d := t.d
	c := d.cfg
	hd, kvDim, group := c.HeadDim, c.KVDim(), c.Heads/c.KVHeads
	for j := lo; j < hi; j++ {
		i, kh := j/c.KVHeads, j%c.KVHeads
		s := int(t.b.Seq[i])*c.Layers + t.layer
		keys, vals := d.k[s], d.v[s]
		n := int(t.b.Pos[i]) + 1
		for h := kh * group; h < (kh+1)*group; h++ {
			q := t.q[(i*c.Heads+h)*hd : (i*c.Heads+h+1)*hd]
			acc := t.out[(i*c.Heads+h)*hd : (i*c.Heads+h+1)*hd]
			clear(acc)
			m, sum := float32(math.Inf(-1)), float32(0)
			for p := 0; p < n; p++ {
				off := p*kvDim + kh*hd
				sc := kernels.Dot(q, keys[off:off+hd]) * d.scale
				if sc > m {
					r := float32(math.Exp(float64(m - sc)))
					sum *= r
					for x := range acc {
						acc[x] *= r
					}
					m = sc
				}
				w := float32(math.Exp(float64(sc - m)))
				sum += w
				kernels.Axpy(w, vals[off:off+hd], acc)
			}
			inv := 1 / sum
			for x := range acc {
				acc[x] *= inv
			}
		}
	}
}

// reportWeights recomputes the attention weights explicitly for the observer.
func (d *DenseCache) reportWeights(layer int, b *Batch, q []float32) {
	c := d.cfg
	hd, kvDim, group := c.HeadDim, c.KVDim(), c.Heads/c.KVHeads
	for i := range b.Tokens {
		s := int(b.Seq[i])*c.Layers + layer
		n := int(b.Pos[i]) + 1
		w := make([]float32, n)
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
