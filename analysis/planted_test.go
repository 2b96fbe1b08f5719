package analysis

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"sieve/kernels"
	"sieve/model"
)

// The planted model: a residual stream of plantDim values in which token
// plantToken, and only it, gets a huge value at dimension plantOut in
// layer plantLayer's feed-forward output, and where every query of layer 0
// attends to that token.
const (
	plantDim   = 8
	plantToken = 3
	plantOut   = 5
	plantLayer = 1
	plantPos   = 3 // where the test sequence holds plantToken
	// Embedding dimensions: the trigger of the feed-forward plant, the key
	// marker of the sink, and a constant every query reads.
	trigger, sinkKey, queryOne = 0, 1, 2
)

// matrix is a rows × cols F32 matrix of zeros, with set to fill it.
type matrix struct {
	rows, cols int
	v          []float32
}

func newMatrix(rows, cols int) *matrix {
	return &matrix{rows: rows, cols: cols, v: make([]float32, rows*cols)}
}

func (m *matrix) set(r, c int, x float32) { m.v[r*m.cols+c] = x }

func (m *matrix) mat() kernels.Mat {
	return kernels.Mat{Type: kernels.F32, Rows: m.rows, Cols: m.cols, Data: kernels.F32Bytes(m.v)}
}

// ones is a norm vector of n ones.
func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// plantedModel builds the planted model in memory. Every other weight is
// zero, so attention outputs add nothing (Wo = 0) and the residual stream
// is the embedding plus the planted feed-forward output.
func plantedModel() *model.Model {
	c := model.Config{Dim: plantDim, HiddenDim: 4, Layers: 3, Heads: 2, KVHeads: 1, HeadDim: 4, VocabSize: 6,
		ContextLen: 16, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 4}
	r := rand.New(rand.NewPCG(7, 9))
	emb := newMatrix(c.VocabSize, c.Dim)
	for t := range c.VocabSize {
		emb.set(t, queryOne, 1)
		for d := queryOne + 1; d < c.Dim; d++ {
			emb.set(t, d, float32(0.05+0.05*r.Float64())) // background, nonzero so the median is
		}
	}
	emb.set(plantToken, trigger, 1)
	emb.set(plantToken, sinkKey, 1)
	qDim, kvDim := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	w := model.Weights{TokenEmbd: emb.mat(), OutputNorm: ones(c.Dim), Output: newMatrix(c.VocabSize, c.Dim).mat()}
	for l := range c.Layers {
		wq, wk := newMatrix(qDim, c.Dim), newMatrix(kvDim, c.Dim)
		w1, w3, w2 := newMatrix(c.HiddenDim, c.Dim), newMatrix(c.HiddenDim, c.Dim), newMatrix(c.Dim, c.HiddenDim)
		if l == 0 {
			// Rows 2 of each head: the RoPE pair with the lowest frequency,
			// which turns by under 0.2 radians over the context.
			for h := range c.Heads {
				wq.set(h*c.HeadDim+2, queryOne, 4)
			}
			wk.set(2, sinkKey, 4)
		}
		if l == plantLayer {
			w1.set(0, trigger, 3)
			w3.set(0, trigger, 3)
			w2.set(plantOut, 0, 1000)
		}
		w.Layers = append(w.Layers, model.Layer{
			AttnNorm: ones(c.Dim), FFNNorm: ones(c.Dim),
			Wq: wq.mat(), Wk: wk.mat(), Wv: newMatrix(kvDim, c.Dim).mat(), Wo: newMatrix(c.Dim, qDim).mat(),
			W1: w1.mat(), W2: w2.mat(), W3: w3.mat(),
		})
	}
	return &model.Model{Name: "planted", Config: c, Weights: w}
}

// plantedSequence is 16 tokens with plantToken only at plantPos.
func plantedSequence() []int32 {
	s := []int32{1, 2, 4, plantToken, 5, 0, 1, 2, 4, 5, 0, 1, 2, 4, 5, 0}
	if slices.Index(s, plantToken) != plantPos || slices.Contains(s[plantPos+1:], plantToken) {
		panic("bad planted sequence")
	}
	return s
}

func TestRunFindsThePlantedMassiveActivation(t *testing.T) {
	res, err := Run(context.Background(), plantedModel(), [][]int32{plantedSequence()}, Options{TopK: 3})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Activations
	if len(a.Dims) != 1 || a.Dims[0].Dim != plantOut || !slices.Equal(a.Dims[0].Layers, []int{1, 2}) || a.Dims[0].Tokens != 1 {
		t.Fatalf("massive dims %+v, want only dim %d in layers 1 and 2 on one token", a.Dims, plantOut)
	}
	if len(a.Tokens) != 1 || a.Tokens[0].Pos != plantPos || a.Tokens[0].Token != plantToken || !slices.Equal(a.Tokens[0].Dims, []int{plantOut}) {
		t.Fatalf("massive tokens %+v, want only position %d", a.Tokens, plantPos)
	}
	if len(a.TokenIDs) != 1 || a.TokenIDs[0].Token != plantToken || a.TokenIDs[0].Occurrences != 1 || a.TokenIDs[0].Massive != 1 {
		t.Fatalf("massive token ids %+v", a.TokenIDs)
	}
	for l, want := range []int{0, 1, 1} {
		if a.Layers[l].Massive != want {
			t.Errorf("layer %d has %d massive entries, want %d", l, a.Layers[l].Massive, want)
		}
	}
	// The layer 0 output is the embedding: its largest entries are the
	// plant token's three ones, the median a background value.
	if got := a.Layers[0].Max; got != 1 {
		t.Errorf("layer 0 max |h| = %v, want 1", got)
	}
	if m := a.Layers[0].Median; m < 0.05 || m > 0.1 {
		t.Errorf("layer 0 median |h| = %v, want a background value in [0.05, 0.1]", m)
	}
	top := a.Top[0]
	if top.Pos != plantPos || top.Dim != plantOut || top.Value < 1000 || top.Ratio < 1e4 {
		t.Errorf("top value %+v, want the plant", top)
	}
	if a.Top[0].Layer != 1 && a.Top[0].Layer != 2 || a.Top[1].Dim != plantOut || a.Top[2].Value > 1 {
		t.Errorf("top values %+v: want the plant in layers 1 and 2, then nothing over 1", a.Top)
	}
}

func TestRunFindsThePlantedSink(t *testing.T) {
	seq := plantedSequence()
	res, err := Run(context.Background(), plantedModel(), [][]int32{seq}, Options{Attention: true, Recent: 4})
	if err != nil {
		t.Fatal(err)
	}
	att := res.Attention
	n := len(seq)
	// Scored queries: from position Recent on (the sequence is at least
	// twice Recent long).
	first, queries := 0.0, 0
	for p := 4; p < n; p++ {
		first += 1 / float64(p+1)
		queries++
	}
	uniform := first / float64(queries)
	for _, h := range att.Heads {
		if h.Queries != queries {
			t.Fatalf("layer %d head %d scored %d queries, want %d", h.Layer, h.Head, h.Queries, queries)
		}
		if h.Layer == 0 {
			if h.Massive < 0.999 || h.First > 1e-3 || h.Keys90 != 1 || h.Entropy > 0.01 {
				t.Errorf("layer 0 head %d: %+v, want all mass on the sink at position %d", h.Head, h, plantPos)
			}
			continue
		}
		// Zero queries and keys: uniform attention over the keys seen.
		if math.Abs(h.First-uniform) > 1e-6 || math.Abs(h.Massive-uniform) > 1e-6 {
			t.Errorf("layer %d head %d: first %v, massive %v, want %v", h.Layer, h.Head, h.First, h.Massive, uniform)
		}
	}
	ret := att.Layers[0].Retained
	if ret[0] != 0 || ret[1] < 0.999*float64(n-plantPos)/float64(n) {
		t.Errorf("layer 0 retains %v with one key, want the sink's share", ret[:2])
	}
	if math.Abs(ret[n]-1) > 1e-9 {
		t.Errorf("layer 0 retains %v with every key, want 1", ret[n])
	}
}
