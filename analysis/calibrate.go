package analysis

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"sieve/sparsity"
)

// Defaults of CalibrateOptions.
const (
	// DefaultFloor is the smallest share of the uniform budget Calibrate
	// gives a layer.
	DefaultFloor = 0.5
	// DefaultSinkShare is the share of a token id's occurrences that must
	// carry massive activations for it to become a content-aware sink.
	DefaultSinkShare = 0.5
)

// CalibrateOptions says what profile Calibrate builds.
type CalibrateOptions struct {
	// Budget is the uniform per-layer budget the profile matches in total:
	// a fraction in (0, 1) of Context, or a whole number of tokens.
	Budget float64
	// Context is the request length the profile is made for (0: the
	// longest analysed sequence).
	Context int
	// Sink is every layer's protected first tokens.
	Sink int
	// Floor is the smallest share of the uniform budget a layer gets (0:
	// DefaultFloor).
	Floor float64
	// SinkShare makes a token id a content-aware sink when at least this
	// share of its occurrences carry massive activations (0:
	// DefaultSinkShare; above 1: none).
	SinkShare float64
}

// Calibration is a calibrated profile with the estimates behind it.
type Calibration struct {
	Profile *sparsity.Profile `json:"profile"`
	// Context is the request length it was made for, Uniform the uniform
	// budget in tokens per layer it matches.
	Context int `json:"context"`
	Uniform int `json:"uniform"`
	// Budgets are the layers' budgets in tokens; they sum to Uniform ×
	// layers.
	Budgets []int `json:"budgets"`
	// Retained and UniformRetained are each layer's attention mass kept by
	// the best Budgets[l] (or Uniform) keys, averaged over the queries.
	Retained        []float64 `json:"retained"`
	UniformRetained []float64 `json:"uniform_retained"`
}

// Calibrate turns attention statistics into a layered profile with the same
// total KV as a uniform budget. Its estimate of a layer's quality at a
// budget is the attention mass the layer keeps when its pooled attention
// is replayed through the policy's own eviction (LayerAttention.Policy,
// the best of WindowShares, interpolated between the replayed budgets).
// Every layer starts at Floor × the uniform budget, and each further token
// goes to the layer where it adds the most retained mass, until the total
// is spent. Diffuse layers get more, up to the whole context (dense in
// practice); concentrated layers less. Token ids that carry massive
// activations become the profile's sink_tokens.
func Calibrate(r *Result, opts CalibrateOptions) (*Calibration, error) {
	att := r.Attention
	if att == nil || len(att.Layers) == 0 {
		return nil, fmt.Errorf("analysis: calibration needs attention statistics")
	}
	ctx := opts.Context
	if ctx == 0 {
		ctx = r.Context
	}
	if ctx < 1 {
		return nil, fmt.Errorf("analysis: context of %d tokens", ctx)
	}
	b := opts.Budget
	switch {
	case math.IsNaN(b) || b <= 0:
		return nil, fmt.Errorf("analysis: budget %v must be positive", b)
	case b < 1:
		b = math.Max(1, math.Round(b*float64(ctx)))
	case b != math.Trunc(b):
		return nil, fmt.Errorf("analysis: budget %v: 1 or more is a whole number of tokens", b)
	}
	uniform := int(math.Min(b, float64(ctx)))
	floor := opts.Floor
	if floor <= 0 {
		floor = DefaultFloor
	}
	if opts.Sink < 0 {
		return nil, fmt.Errorf("analysis: negative sink count %d", opts.Sink)
	}
	layers := len(att.Layers)
	least := min(uniform, max(int(math.Ceil(floor*float64(uniform))), opts.Sink+1))
	c := &Calibration{Context: ctx, Uniform: uniform, Budgets: make([]int, layers)}
	h := &gains{budgets: c.Budgets}
	shares := make([][]float64, layers)
	for l, la := range att.Layers {
		var curve []float64
		curve, shares[l] = policyCurve(la.Policy, ctx, opts.Sink)
		h.curves = append(h.curves, curve)
		c.Budgets[l] = least
		h.order = append(h.order, l)
	}
	heap.Init(h)
	for spare := layers * (uniform - least); spare > 0 && h.Len() > 0; spare-- {
		l := h.order[0]
		c.Budgets[l]++
		if c.Budgets[l] == ctx {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	c.Profile = &sparsity.Profile{Model: r.Model, SinkTokens: sinkTokens(r.Activations, opts.SinkShare)}
	for l, t := range c.Budgets {
		s := min(opts.Sink, t)
		w := min(int(shares[l][t]*float64(t-s)), t-s)
		c.Profile.Layers = append(c.Profile.Layers, sparsity.LayerBudget{Sink: s, Window: w, Heavy: t - s - w})
		c.Retained = append(c.Retained, h.curves[l][t])
		c.UniformRetained = append(c.UniformRetained, interpolate(att.Layers[l].Policy, WindowShares[0], uniform))
	}
	if err := c.Profile.Validate(); err != nil {
		return nil, fmt.Errorf("analysis: calibrated profile: %w", err)
	}
	return c, nil
}

// sinkTokens lists the token ids of which at least share of the occurrences
// carry massive activations.
func sinkTokens(a *Activations, share float64) []int32 {
	if share <= 0 {
		share = DefaultSinkShare
	}
	var ids []int32
	for _, t := range a.TokenIDs {
		if t.Occurrences > 0 && float64(t.Massive) >= share*float64(t.Occurrences) {
			ids = append(ids, t.Token)
		}
	}
	return ids
}

// policyCurve turns a layer's replayed points into the retained mass at
// every budget 0..ctx, each the best over the window shares, made
// non-decreasing, and the window share that achieves it.
func policyCurve(points []PolicyPoint, ctx, sink int) (curve, share []float64) {
	curve, share = make([]float64, ctx+1), make([]float64, ctx+1)
	for t := 1; t <= ctx; t++ {
		curve[t], share[t] = curve[t-1], share[t-1]
		for _, sh := range WindowShares {
			if v := interpolate(points, sh, t); v > curve[t] || t == 1 {
				curve[t], share[t] = v, sh
			}
		}
	}
	return curve, share
}

// interpolate is the retained mass at budget t for the window share,
// linear between the replayed budgets (from 0 at budget 0, flat after the
// last).
func interpolate(points []PolicyPoint, sh float64, t int) float64 {
	b0, v0 := 0, 0.0
	for i, p := range points {
		if WindowShares[i%len(WindowShares)] != sh {
			continue
		}
		if p.Budget >= t {
			if p.Budget == b0 {
				return p.Retained
			}
			return v0 + (p.Retained-v0)*float64(t-b0)/float64(p.Budget-b0)
		}
		b0, v0 = p.Budget, p.Retained
	}
	return v0
}

// gains is a max-heap of layers by the mass their next token adds, the
// lower layer first on ties.
type gains struct {
	curves  [][]float64
	budgets []int
	order   []int
}

func (g *gains) gain(l int) float64 {
	c, k := g.curves[l], g.budgets[l]
	if k+1 >= len(c) {
		return 0
	}
	return c[k+1] - c[k]
}

func (g *gains) Len() int { return len(g.order) }
func (g *gains) Less(i, j int) bool {
	a, b := g.gain(g.order[i]), g.gain(g.order[j])
	if a != b {
		return a > b
	}
	return g.order[i] < g.order[j]
}
func (g *gains) Swap(i, j int) { g.order[i], g.order[j] = g.order[j], g.order[i] }
func (g *gains) Push(x any)    { g.order = append(g.order, x.(int)) }
func (g *gains) Pop() any {
	x := g.order[len(g.order)-1]
	g.order = g.order[:len(g.order)-1]
	return x
}

// WriteProfile writes the profile as JSON, one layer per line.
func WriteProfile(w io.Writer, p *sparsity.Profile) error {
	model, err := json.Marshal(p.Model)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"model\": %s,\n", model)
	if len(p.SinkTokens) > 0 {
		ids, err := json.Marshal(p.SinkTokens)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "  \"sink_tokens\": %s,\n", ids)
	}
	b.WriteString("  \"layers\": [\n")
	for i, lb := range p.Layers {
		data, err := lb.MarshalJSON()
		if err != nil {
			return err
		}
		sep := ","
		if i == len(p.Layers)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %s%s\n", data, sep)
	}
	b.WriteString("  ]\n}\n")
	_, err = w.Write(b.Bytes())
	return err
}

// WriteCalibration prints the calibrated budgets beside the uniform one.
func WriteCalibration(w io.Writer, r *Result, c *Calibration) error {
	fmt.Fprintf(w, "model %s, %d sequences, %d tokens; profile for %d-token requests, the total of a uniform %d tokens per layer\n\n",
		r.Model, r.Sequences, r.Tokens, c.Context, c.Uniform)
	err := table(w, "layer\tkeys 90%\tentropy\tbudget\tsink+window+heavy\tretained\tretained at uniform", func(tw io.Writer) {
		for l, t := range c.Budgets {
			a := r.Attention.Layers[l]
			fmt.Fprintf(tw, "%d\t%.1f\t%.2f\t%d\t%s\t%.4f\t%.4f\t\n", l, a.Keys90, a.Entropy, t, c.Profile.Layers[l], c.Retained[l], c.UniformRetained[l])
		}
	})
	if err != nil {
		return err
	}
	if len(c.Profile.SinkTokens) == 0 {
		_, err = fmt.Fprintln(w, "no content-aware sink tokens (no token carries massive activations)")
		return err
	}
	_, err = fmt.Fprintf(w, "content-aware sink tokens: %v\n", c.Profile.SinkTokens)
	return err
}
