package sparsity

import (
	"fmt"
	"math"
)

// Plan is a spec bound to a model and a request at admission: one budget per
// layer and what the engine and cache must do to serve it. It does not
// change while the request runs.
type Plan struct {
	// Policy is the policy the plan came from.
	Policy Policy
	// Layers holds each layer's budget, lowest layer first.
	Layers []LayerBudget
	// BlockSize is the cache's block size, the eviction hysteresis.
	BlockSize int
	// AfterPrompt is set when the policy compresses only once the whole
	// prompt is cached (snapkv): no eviction during chunked prefill; then
	// each layer due for it (Evict) is compacted by Keep over SnapKVScores,
	// and decoding goes on like h2o. The other policies may evict between
	// prefill chunks.
	AfterPrompt bool
	// Observe is the number of last prompt queries whose attention weights
	// SnapKV collects; 0 for the other policies.
	Observe int
	// Kernel is the width of SnapKV's max pooling (SnapKVScores).
	Kernel int
	// SinkTokens are the token ids kept like sinks wherever they sit
	// (SinkKeeper); nil for none.
	SinkTokens *SinkTokens
}

// Plan binds the spec to a model of the given layer count, a request of
// requestTokens (prompt + max_tokens; 0 when unknown) and the cache's block
// size. A fractional budget becomes round(Budget × requestTokens) tokens,
// at least 1, and sink and window are then clamped to fit it.
//
// window, h2o and snapkv give every layer the same budget B. pyramid
// tapers it linearly from 2B - top at layer 0 to top at the last layer,
// top = max(Sink + Window, ceil(PyramidTop × B)), rounded so that the layers
// sum to exactly layers × B. layered takes the profile (its sparse layers
// rescaled to a mean of B when a budget is given) or DefaultProfile's shape.
// Neither pyramid nor a rescaled profile gives a layer more than the
// request's tokens, what it can hold: the excess goes to the other layers
// in proportion to their shares, so the total is still what was asked.
//
// Nothing is ever evicted (every layer is dense) for Full, when the
// resolved budget is at least requestTokens, and in any layer whose budget
// plus one block exceeds requestTokens, since it could never reach
// ShouldEvict.
func (s Spec) Plan(layers, requestTokens, blockSize int) (Plan, error) {
	if err := s.Validate(); err != nil {
		return Plan{}, err
	}
	if layers < 1 {
		return Plan{}, fmt.Errorf("%w: model has %d layers", ErrBadSpec, layers)
	}
	if blockSize < 1 {
		return Plan{}, fmt.Errorf("%w: block size %d", ErrBadSpec, blockSize)
	}
	if requestTokens < 0 {
		return Plan{}, fmt.Errorf("%w: request of %d tokens", ErrBadSpec, requestTokens)
	}
	p := Plan{Policy: s.Policy, Layers: make([]LayerBudget, layers), BlockSize: blockSize}
	b, err := s.resolve(requestTokens)
	if err != nil {
		return Plan{}, err
	}
	if s.Policy == Full || (requestTokens > 0 && b >= requestTokens) {
		return p.dense(), nil
	}
	switch s.Policy {
	case Window, H2O, SnapKV:
		lb := split(b, s.Sink, s.window(b), s.Policy != Window)
		for i := range p.Layers {
			p.Layers[i] = lb
		}
	case Pyramid:
		lb := split(b, s.Sink, s.window(b), true)
		for i, t := range pyramidBudgets(layers, b, lb.Sink+lb.Window, s.PyramidTop, capacity(requestTokens)) {
			p.Layers[i] = LayerBudget{Sink: lb.Sink, Window: lb.Window, Heavy: t - lb.Sink - lb.Window}
		}
	case Layered:
		switch {
		case s.Profile == nil:
			copy(p.Layers, defaultLayers(layers, b, s.Sink, s.window(b)))
		case len(s.Profile.Layers) != layers:
			return Plan{}, fmt.Errorf("%w: profile %q has %d layers, the model %d", ErrBadSpec, s.Profile.Model, len(s.Profile.Layers), layers)
		case b > 0:
			copy(p.Layers, rescale(s.Profile.Layers, b, capacity(requestTokens)))
		default:
			copy(p.Layers, s.Profile.Layers)
		}
	}
	for i, lb := range p.Layers {
		if requestTokens > 0 && lb.Budget()+blockSize > requestTokens {
			p.Layers[i] = LayerBudget{Dense: true}
		}
	}
	if s.Policy == SnapKV {
		p.AfterPrompt, p.Observe, p.Kernel = true, s.Obs, s.Kernel
	}
	p.SinkTokens = s.planSinkTokens()
	return p, nil
}

// capacity is the most slots a layer of a request of requestTokens tokens
// can hold (maxTokens when the length is unknown).
func capacity(requestTokens int) int {
	if requestTokens == 0 {
		return maxTokens
	}
	return requestTokens
}

// resolve turns the budget into tokens (0 when unset).
func (s Spec) resolve(requestTokens int) (int, error) {
	if s.Budget >= 1 || s.Budget == 0 {
		return int(s.Budget), nil
	}
	if requestTokens == 0 {
		return 0, fmt.Errorf("%w: fractional budget %v needs the request length", ErrBadSpec, s.Budget)
	}
	return max(1, int(math.Round(s.Budget*float64(requestTokens)))), nil
}

// dense makes every layer dense.
func (p Plan) dense() Plan {
	for i := range p.Layers {
		p.Layers[i] = LayerBudget{Dense: true}
	}
	return p
}

// Dense reports whether no layer of the plan ever evicts.
func (p Plan) Dense() bool {
	for _, lb := range p.Layers {
		if !lb.Dense {
			return false
		}
	}
	return true
}

// Evict reports whether the layer, holding n slots, is due for compaction
// (ShouldEvict with the plan's block size).
func (p Plan) Evict(layer, n int) bool {
	return ShouldEvict(n, p.Layers[layer], p.BlockSize)
}

// ScoresFrom is the position of the first query whose attention weights
// add to the slot scores of a sequence with a prompt of promptLen tokens:
// the first observation query for snapkv, else the first token.
func (p Plan) ScoresFrom(promptLen int) int32 {
	if p.AfterPrompt {
		return int32(max(0, promptLen-p.Observe))
	}
	return 0
}
