package analysis

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"sieve/llama"
	"sieve/model"
	"sieve/tokenizer"
)

// Activations is what the residual stream showed.
type Activations struct {
	// Ratio is the massive-activation threshold used: |h| ≥ Ratio × the
	// layer's median |h|.
	Ratio float64 `json:"ratio_threshold"`
	// Layers holds one entry per layer, lowest first.
	Layers []LayerActivations `json:"layers"`
	// Top is the largest |h| values, largest first.
	Top []Value `json:"top"`
	// Dims lists the dimensions holding massive values, most massive
	// entries first.
	Dims []DimStat `json:"massive_dims"`
	// Tokens lists the token positions carrying massive values, in order.
	Tokens []TokenStat `json:"massive_tokens"`
	// TokenIDs groups Tokens by token id: how often the id occurs in the
	// input and how many of those occurrences carry massive values.
	TokenIDs []TokenIDStat `json:"massive_token_ids"`
}

// Value is one entry of the residual stream after a layer.
type Value struct {
	Layer int     `json:"layer"`
	Seq   int     `json:"seq"`
	Pos   int     `json:"pos"`
	Token int32   `json:"token"`
	Text  string  `json:"text"`
	Dim   int     `json:"dim"`
	Value float32 `json:"value"`
	// Ratio is |Value| over the median |h| of the layer in that sequence.
	Ratio float64 `json:"ratio"`
}

// LayerActivations summarises one layer's output.
type LayerActivations struct {
	Layer int `json:"layer"`
	// Median is the median |h| over tokens and dimensions, averaged over
	// the sequences.
	Median float64 `json:"median"`
	// Max is the largest |h|, and MaxRatio the largest ratio to the median.
	Max      float64 `json:"max"`
	MaxRatio float64 `json:"max_ratio"`
	// Massive counts the entries at or over the threshold.
	Massive int `json:"massive"`
	// Map is |h| of the first sequence for the tokens and dimensions with
	// the largest values.
	Map Heatmap `json:"map"`
}

// Heatmap is |h| over a few tokens (rows, in position order) and
// dimensions (columns, in increasing order).
type Heatmap struct {
	Pos  []int       `json:"pos"`
	Text []string    `json:"text"`
	Dims []int       `json:"dims"`
	Abs  [][]float32 `json:"abs"`
}

// DimStat is one dimension holding massive values.
type DimStat struct {
	Dim int `json:"dim"`
	// Count is the number of massive entries (layer, token) in it.
	Count int `json:"count"`
	// Tokens is the number of token positions with a massive entry in it.
	Tokens int `json:"tokens"`
	// Layers lists the layers where it is massive.
	Layers   []int   `json:"layers"`
	MaxRatio float64 `json:"max_ratio"`
}

// TokenStat is one token position carrying massive values.
type TokenStat struct {
	Seq   int    `json:"seq"`
	Pos   int    `json:"pos"`
	Token int32  `json:"token"`
	Text  string `json:"text"`
	// Count is its number of massive entries over layers and dimensions.
	Count    int     `json:"count"`
	Layers   []int   `json:"layers"`
	Dims     []int   `json:"dims"`
	MaxRatio float64 `json:"max_ratio"`
}

// TokenIDStat is one token id whose occurrences carry massive values.
type TokenIDStat struct {
	Token int32  `json:"token"`
	Text  string `json:"text"`
	// Occurrences counts the id in the input, Massive the occurrences
	// that carry massive values.
	Occurrences int `json:"occurrences"`
	Massive     int `json:"massive"`
}

// actCollector is the llama.Observer that gathers Activations.
type actCollector struct {
	cfg   model.Config
	tok   tokenizer.Tokenizer
	opts  Options
	seq   int
	toks  []int32
	after func()

	abs    []float32
	sorted []float32
	top    []Value // min-heap on |Value|
	layers []LayerActivations
	medSum []float64
	seqs   []int // sequences seen per layer
	dims   map[int]*DimStat
	dimPos map[[3]int]bool // (dim, seq, pos) seen
	tokens map[[2]int]*TokenStat
	ids    map[int32]*TokenIDStat
	cur    map[int]bool // massive positions of the current sequence
}

func newActCollector(c model.Config, tok tokenizer.Tokenizer, opts Options) *actCollector {
	a := &actCollector{cfg: c, tok: tok, opts: opts,
		layers: make([]LayerActivations, c.Layers), medSum: make([]float64, c.Layers), seqs: make([]int, c.Layers),
		dims: map[int]*DimStat{}, dimPos: map[[3]int]bool{}, tokens: map[[2]int]*TokenStat{}, ids: map[int32]*TokenIDStat{}}
	for l := range a.layers {
		a.layers[l].Layer = l
	}
	return a
}

// start begins sequence seq; after is called after each layer.
func (a *actCollector) start(seq int, toks []int32, after func()) {
	a.seq, a.toks, a.after, a.cur = seq, toks, after, map[int]bool{}
	for _, t := range toks {
		if s := a.ids[t]; s != nil {
			s.Occurrences++
		} else {
			a.ids[t] = &TokenIDStat{Token: t, Text: tokenText(a.tok, toks, slices.Index(toks, t)), Occurrences: 1}
		}
	}
}

// Residual implements llama.Observer.
func (a *actCollector) Residual(layer int, b *llama.Batch, x []float32) {
	if layer < 0 {
		return
	}
	dim := a.cfg.Dim
	abs := slices.Grow(a.abs[:0], len(x))[:len(x)]
	for i, v := range x {
		abs[i] = float32(math.Abs(float64(v)))
	}
	a.abs = abs
	a.sorted = append(a.sorted[:0], abs...)
	med := median(a.sorted)
	la := &a.layers[layer]
	a.medSum[layer] += med
	a.seqs[layer]++
	for i, v := range x {
		av := float64(abs[i])
		ratio := math.Inf(1)
		if med > 0 {
			ratio = av / med
		}
		la.Max = max(la.Max, av)
		la.MaxRatio = max(la.MaxRatio, ratio)
		pos, d := int(b.Pos[i/dim]), i%dim
		a.pushTop(av, layer, pos, d, v, ratio)
		if ratio >= a.opts.Ratio {
			a.massive(layer, pos, d, ratio)
		}
	}
	if a.seq == 0 || len(la.Map.Pos) == 0 {
		la.Map = a.heatmap(x, b)
	}
	if a.after != nil {
		a.after()
	}
}

// pushTop offers one value to the top-k heap.
func (a *actCollector) pushTop(av float64, layer, pos, d int, v float32, ratio float64) {
	k := a.opts.TopK
	if len(a.top) == k && av <= math.Abs(float64(a.top[0].Value)) {
		return
	}
	val := Value{Layer: layer, Seq: a.seq, Pos: pos, Token: a.toks[pos], Dim: d, Value: v, Ratio: ratio}
	if len(a.top) < k {
		a.top = append(a.top, val)
		heapUp(a.top, len(a.top)-1)
	} else {
		a.top[0] = val
		heapDown(a.top, 0)
	}
}

// massive records one massive entry.
func (a *actCollector) massive(layer, pos, d int, ratio float64) {
	la := &a.layers[layer]
	la.Massive++
	ds := a.dims[d]
	if ds == nil {
		ds = &DimStat{Dim: d}
		a.dims[d] = ds
	}
	ds.Count++
	ds.MaxRatio = max(ds.MaxRatio, ratio)
	if !slices.Contains(ds.Layers, layer) {
		ds.Layers = append(ds.Layers, layer)
	}
	if key := [3]int{d, a.seq, pos}; !a.dimPos[key] {
		a.dimPos[key] = true
		ds.Tokens++
	}
	key := [2]int{a.seq, pos}
	ts := a.tokens[key]
	if ts == nil {
		ts = &TokenStat{Seq: a.seq, Pos: pos, Token: a.toks[pos], Text: tokenText(a.tok, a.toks, pos)}
		a.tokens[key] = ts
		a.ids[ts.Token].Massive++
		a.cur[pos] = true
	}
	ts.Count++
	ts.MaxRatio = max(ts.MaxRatio, ratio)
	if !slices.Contains(ts.Layers, layer) {
		ts.Layers = append(ts.Layers, layer)
	}
	if !slices.Contains(ts.Dims, d) {
		ts.Dims = append(ts.Dims, d)
	}
}

// massivePositions returns the positions of the current sequence that carry
// massive values, in increasing order.
func (a *actCollector) massivePositions() []int {
	var out []int
	for p := range a.cur {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// heatmap picks the MapSize tokens and dimensions with the largest |h|.
func (a *actCollector) heatmap(x []float32, b *llama.Batch) Heatmap {
	dim, n := a.cfg.Dim, b.Len()
	tokMax := make([]float32, n)
	dimMax := make([]float32, dim)
	for i, v := range a.abs {
		tokMax[i/dim] = max(tokMax[i/dim], v)
		dimMax[i%dim] = max(dimMax[i%dim], v)
	}
	rows, cols := largest(tokMax, a.opts.MapSize), largest(dimMax, a.opts.MapSize)
	h := Heatmap{Dims: cols}
	for _, r := range rows {
		pos := int(b.Pos[r])
		h.Pos = append(h.Pos, pos)
		h.Text = append(h.Text, tokenText(a.tok, a.toks, pos))
		row := make([]float32, len(cols))
		for j, d := range cols {
			row[j] = a.abs[r*dim+d]
		}
		h.Abs = append(h.Abs, row)
	}
	return h
}

// result assembles the Activations.
func (a *actCollector) result() *Activations {
	r := &Activations{Ratio: a.opts.Ratio, Layers: a.layers}
	for l := range r.Layers {
		if a.seqs[l] > 0 {
			r.Layers[l].Median = a.medSum[l] / float64(a.seqs[l])
		}
	}
	r.Top = slices.Clone(a.top)
	slices.SortFunc(r.Top, func(x, y Value) int {
		return cmp.Or(cmp.Compare(math.Abs(float64(y.Value)), math.Abs(float64(x.Value))), cmp.Compare(x.Layer, y.Layer))
	})
	for i := range r.Top {
		r.Top[i].Text = a.text(r.Top[i].Token)
	}
	for _, d := range a.dims {
		slices.Sort(d.Layers)
		r.Dims = append(r.Dims, *d)
	}
	slices.SortFunc(r.Dims, func(x, y DimStat) int { return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Dim, y.Dim)) })
	for _, t := range a.tokens {
		slices.Sort(t.Layers)
		slices.Sort(t.Dims)
		r.Tokens = append(r.Tokens, *t)
	}
	slices.SortFunc(r.Tokens, func(x, y TokenStat) int { return cmp.Or(cmp.Compare(x.Seq, y.Seq), cmp.Compare(x.Pos, y.Pos)) })
	for _, s := range a.ids {
		if s.Massive > 0 {
			r.TokenIDs = append(r.TokenIDs, *s)
		}
	}
	slices.SortFunc(r.TokenIDs, func(x, y TokenIDStat) int {
		return cmp.Or(cmp.Compare(y.Massive, x.Massive), cmp.Compare(x.Token, y.Token))
	})
	return r
}

// text is the printable text of a token id out of context.
func (a *actCollector) text(id int32) string {
	if s := a.ids[id]; s != nil {
		return s.Text
	}
	return tokenText(a.tok, []int32{id}, 0)
}

// tokenText is the printable text of toks[pos] (following toks[pos-1]).
func tokenText(tok tokenizer.Tokenizer, toks []int32, pos int) string {
	id := toks[pos]
	if tok == nil || id < 0 || int(id) >= tok.VocabSize() {
		return "#" + strconv.Itoa(int(id))
	}
	if id == tok.BOS() {
		return "<s>"
	}
	if tok.IsControl(id) {
		return "<" + strconv.Itoa(int(id)) + ">"
	}
	prev := int32(-1)
	if pos > 0 {
		prev = toks[pos-1]
	}
	return string(tok.Piece(prev, id))
}

// median returns the median of v (the mean of the two middle values when
// len(v) is even), reordering v.
func median(v []float32) float64 {
	n := len(v)
	if n == 0 {
		return 0
	}
	slices.Sort(v)
	if n%2 == 1 {
		return float64(v[n/2])
	}
	return (float64(v[n/2-1]) + float64(v[n/2])) / 2
}

// largest returns the indices of the k largest values (ties to the lower
// index), in increasing order.
func largest(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(v[y], v[x]) })
	idx = idx[:min(k, len(idx))]
	slices.Sort(idx)
	return idx
}

// heapUp and heapDown keep h a min-heap on |Value|.
func heapUp(h []Value, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func heapDown(h []Value, i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && less(h[c+1], h[c]) {
			c++
		}
		if !less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// less orders values by |Value|.
func less(x, y Value) bool { return math.Abs(float64(x.Value)) < math.Abs(float64(y.Value)) }
