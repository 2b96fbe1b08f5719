package llama

import (
	"fmt"

	"sieve/kernels"
	"sieve/model"
)

// Runner executes forward passes of one model. It holds scratch buffers for
// batches of up to MaxTokens tokens, so steady-state passes allocate nothing.
// A Runner is not safe for concurrent use.
type Runner struct {
	cfg   model.Config
	w     *model.Weights
	pool  *kernels.Pool
	freqs []float32
	max   int

	// Observer, when set, sees the residual stream after every layer.
	Observer Observer

	x, xb, q, k, v, att, h1, h3 []float32
	cos, sin                    []float32
	last, logits                []float32
}

// NewRunner prepares a runner for batches of up to maxTokens tokens.
func NewRunner(m *model.Model, pool *kernels.Pool, maxTokens int) *Runner {
	c := m.Config
	r := &Runner{cfg: c, w: &m.Weights, pool: pool, freqs: ropeFreqs(c), max: maxTokens}
	qDim := c.Heads * c.HeadDim
	r.x = make([]float32, maxTokens*c.Dim)
	r.xb = make([]float32, maxTokens*c.Dim)
	r.q = make([]float32, maxTokens*qDim)
	r.k = make([]float32, maxTokens*c.KVDim())
	r.v = make([]float32, maxTokens*c.KVDim())
	r.att = make([]float32, maxTokens*qDim)
	r.h1 = make([]float32, maxTokens*c.HiddenDim)
	r.h3 = make([]float32, maxTokens*c.HiddenDim)
	r.cos = make([]float32, maxTokens*len(r.freqs))
	r.sin = make([]float32, maxTokens*len(r.freqs))
	return r
}

// Config returns the model configuration.
func (r *Runner) Config() model.Config { return r.cfg }

// MaxTokens is the largest batch Forward accepts.
func (r *Runner) MaxTokens() int { return r.max }

// Forward runs the batch through the model, storing keys and values through
// att, and returns the logits of the tokens listed in b.Logits, one row of
// VocabSize values each. The returned slice is valid until the next call.
func (r *Runner) Forward(b *Batch, att Attention) ([]float32, error) {
	n := b.Len()
	c := r.cfg
	switch {
	case n == 0:
		return nil, nil
	case n > r.max:
		return nil, fmt.Errorf("llama: batch of %d tokens exceeds the runner's %d", n, r.max)
	case len(b.Pos) != n || len(b.Seq) != n:
		return nil, fmt.Errorf("llama: batch has %d tokens, %d positions, %d sequence ids", n, len(b.Pos), len(b.Seq))
	}
	for i, t := range b.Tokens {
		if t < 0 || int(t) >= c.VocabSize {
			return nil, fmt.Errorf("llama: token %d out of range [0, %d)", t, c.VocabSize)
		}
		if b.Pos[i] < 0 {
			return nil, fmt.Errorf("llama: negative position %d", b.Pos[i])
		}
		kernels.DequantRow(r.x[i*c.Dim:(i+1)*c.Dim], r.w.TokenEmbd, int(t))
	}
	for _, i := range b.Logits {
		if i < 0 || int(i) >= n {
			return nil, fmt.Errorf("llama: logits index %d out of range", i)
		}
	}
	nf := len(r.freqs)
	for i, p := range b.Pos {
		ropeAngles(r.cos[i*nf:(i+1)*nf], r.sin[i*nf:(i+1)*nf], r.freqs, p)
	}
	if r.Observer != nil {
		r.Observer.Residual(-1, b, r.x[:n*c.Dim])
	}
	for l := range r.w.Layers {
		r.layer(l, b, att)
		if r.Observer != nil {
			r.Observer.Residual(l, b, r.x[:n*c.Dim])
		}
	}
	return r.output(b), nil
}

func (r *Runner) layer(l int, b *Batch, att Attention) {
	c := r.cfg
	lw := &r.w.Layers[l]
	n := b.Len()
	dim, qDim, kvDim, hid := c.Dim, c.Heads*c.HeadDim, c.KVDim(), c.HiddenDim
	x, xb := r.x[:n*dim], r.xb[:n*dim]

	for i := 0; i < n; i++ {
		kernels.RMSNorm(xb[i*dim:(i+1)*dim], x[i*dim:(i+1)*dim], lw.AttnNorm, c.NormEps)
	}
	q, k, v := r.q[:n*qDim], r.k[:n*kvDim], r.v[:n*kvDim]
	kernels.MatMul3(r.pool, xb, n, kernels.Product{Out: q, M: lw.Wq},
		kernels.Product{Out: k, M: lw.Wk}, kernels.Product{Out: v, M: lw.Wv})
	half := c.RopeStyle == model.RopeHalf
	nf := len(r.freqs)
	for i := 0; i < n; i++ {
		cs, sn := r.cos[i*nf:(i+1)*nf], r.sin[i*nf:(i+1)*nf]
		kernels.RoPE(q[i*qDim:(i+1)*qDim], c.HeadDim, cs, sn, half)
		kernels.RoPE(k[i*kvDim:(i+1)*kvDim], c.HeadDim, cs, sn, half)
	}
	a := r.att[:n*qDim]
	att.Attend(l, b, q, k, v, a)
	kernels.MatMul(r.pool, xb, lw.Wo, a, n)
	kernels.Add(x, xb)

	for i := 0; i < n; i++ {
		kernels.RMSNorm(xb[i*dim:(i+1)*dim], x[i*dim:(i+1)*dim], lw.FFNNorm, c.NormEps)
	}
	h1, h3 := r.h1[:n*hid], r.h3[:n*hid]
	kernels.MatMul2(r.pool, xb, n, kernels.Product{Out: h1, M: lw.W1}, kernels.Product{Out: h3, M: lw.W3})
	kernels.SiLUMul(h1, h3)
	kernels.MatMul(r.pool, xb, lw.W2, h1, n)
	kernels.Add(x, xb)
}

// output computes logits for the requested tokens.
func (r *Runner) output(b *Batch) []float32 {
	c := r.cfg
	m := len(b.Logits)
	if m == 0 {
		return nil
	}
	if cap(r.last) < m*c.Dim {
		r.last = make([]float32, m*c.Dim)
		r.logits = make([]float32, m*c.VocabSize)
	}
	last, logits := r.last[:m*c.Dim], r.logits[:m*c.VocabSize]
	for j, i := range b.Logits {
		kernels.RMSNorm(last[j*c.Dim:(j+1)*c.Dim], r.x[int(i)*c.Dim:(int(i)+1)*c.Dim], r.w.OutputNorm, c.NormEps)
	}
	kernels.MatMul(r.pool, logits, r.w.Output, last, m)
	return logits
}
