package sparsity

// Slots is one sequence's KV cache as eviction sees it: per layer, its
// slots in order, each with the position of its token and its score. The
// paged cache satisfies it (kvcache.Cache.Slots).
type Slots interface {
	// Len is the number of slots the layer holds.
	Len(layer int) int
	// Positions appends the positions of the layer's slots to dst.
	Positions(layer int, dst []int32) []int32
	// Scores appends the scores of the layer's slots to dst.
	Scores(layer int, dst []float32) []float32
	// SetScores replaces the layer's scores, one per slot.
	SetScores(layer int, scores []float32)
	// Retain keeps the listed slots (increasing indices) and drops the rest.
	Retain(layer int, keep []int)
	// SetAccumulate makes the queries at positions from on add their
	// attention weights to the layer's slot scores.
	SetAccumulate(layer int, from int32)
}

// Progress is where one sequence stands in its plan's eviction lifecycle.
type Progress struct {
	// From is the position of the first query that adds to slot scores
	// (Plan.ScoresFrom), set by Start.
	From int32
	// Compressed is set once an AfterPrompt plan has compressed the prompt.
	Compressed bool
}

// Evictor runs the eviction lifecycle of plans over Slots: Start sets up a
// sequence's scoring, Step compacts its layers that are due after each
// forward pass. Its buffers are reused, so steady-state eviction does not
// allocate. The zero value is ready to use; it is not safe for concurrent
// use.
type Evictor struct {
	keep    []int
	pos     []int32
	protect []int
	sinks   SinkKeeper
	scores  []float32
	ranked  []float32
	pooled  []float32
}

// Start sets up the scoring of a sequence with a prompt of prompt tokens
// that is (re)starting from an empty cache: its layers that rank slots by
// score accumulate from Plan.ScoresFrom(prompt) on.
func (e *Evictor) Start(s Slots, p *Plan, prompt int) Progress {
	return e.StartAt(s, p, prompt, 0)
}

// StartAt is Start for a sequence whose first cached tokens came from a
// prefix cache rather than from its own forward passes: their queries
// never ran, so scores count the queries from max(Plan.ScoresFrom(prompt),
// cached) on.
func (e *Evictor) StartAt(s Slots, p *Plan, prompt, cached int) Progress {
	pr := Progress{From: max(p.ScoresFrom(prompt), int32(cached))}
	for l, lb := range p.Layers {
		if !lb.Dense && lb.Heavy > 0 {
			s.SetAccumulate(l, pr.From)
		}
	}
	return pr
}

// Step applies p to s after a forward pass, with cached of the sequence's
// prompt tokens (prompt in all) now in the cache. Every sparse layer that
// is due (Plan.Evict) keeps its best Budget() slots (Keep, ranked by
// RankScores; sink tokens, tokens[pos] in p.SinkTokens, kept like sinks)
// and drops the rest. An AfterPrompt plan waits until the whole prompt is
// cached, then replaces the scores by SnapKVScores of the weights its
// last prompt queries gave, and later steps evict like h2o. tokens holds
// the sequence's tokens by position (nil: no sink tokens). Step returns
// the slots dropped and the number of layers compacted.
func (e *Evictor) Step(s Slots, p *Plan, pr *Progress, cached, prompt int, tokens []int32) (dropped, compacted int) {
	snap := false
	if p.AfterPrompt && !pr.Compressed {
		if cached < prompt {
			return 0, 0
		}
		pr.Compressed, snap = true, true
	}
	for l, lb := range p.Layers {
		if lb.Dense {
			continue
		}
		due := p.Evict(l, s.Len(l)) // SetScores keeps the length
		var scores []float32
		if lb.Heavy > 0 && (snap || due) {
			e.scores = s.Scores(l, e.scores[:0])
			scores = e.scores
		}
		if snap && scores != nil {
			e.pooled = SnapKVScores(e.pooled, scores, lb.Window, p.Kernel)
			scores = e.pooled
			s.SetScores(l, scores)
		}
		if due {
			dropped += e.layer(s, l, lb, scores, pr.From, tokens, p.SinkTokens)
			compacted++
		}
	}
	return dropped, compacted
}

// layer compacts one layer to lb's budget, ranking by scores (nil: by
// recency only), and returns the slots dropped.
func (e *Evictor) layer(s Slots, layer int, lb LayerBudget, scores []float32, from int32, tokens []int32, sinks *SinkTokens) int {
	e.pos = s.Positions(layer, e.pos[:0])
	e.protect = e.protect[:0]
	if sinks != nil {
		for i, p := range e.pos {
			if int(p) < len(tokens) && sinks.Has(tokens[p]) {
				e.protect = append(e.protect, i)
			}
		}
	}
	if scores != nil {
		e.ranked = RankScores(e.ranked, e.pos, scores, lb, from)
		scores = e.ranked
	}
	e.keep = e.sinks.Keep(e.keep, e.pos, scores, lb, e.protect)
	s.Retain(layer, e.keep)
	return len(e.pos) - len(e.keep)
}
