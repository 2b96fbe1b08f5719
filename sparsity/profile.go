package sparsity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Profile is a per-layer budget table for the layered policy, as written by
// hand or by calibration, in JSON:
//
//	{"model": "small", "layers": ["dense", {"sink": 4, "window": 256, "heavy": 764}, ...]}
//
// A layer is the string "dense", {"dense": true}, or an object with sink,
// window and heavy counts (missing counts are 0).
type Profile struct {
	// Model names the model the profile was made for; informational.
	Model string `json:"model,omitempty"`
	// Layers holds one budget per layer, from the lowest layer up.
	Layers []LayerBudget `json:"layers"`
	// SinkTokens lists token ids that layered keeps like sinks wherever
	// they sit (content-aware sinks, see SinkTokens); calibration writes
	// the ids that carry massive activations.
	SinkTokens []int32 `json:"sink_tokens,omitempty"`
}

// LoadProfile reads and validates a profile file.
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: profile: %w", ErrBadSpec, err)
	}
	p, err := ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParseProfile decodes and validates a profile. Unknown fields and trailing
// data are errors.
func ParseProfile(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: profile: %w", ErrBadSpec, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: profile: data after the JSON object", ErrBadSpec)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks every layer; the layer count is checked against the model
// by Spec.Plan.
func (p *Profile) Validate() error {
	if len(p.Layers) == 0 {
		return fmt.Errorf("%w: profile has no layers", ErrBadSpec)
	}
	for i, lb := range p.Layers {
		if err := lb.validate(); err != nil {
			return fmt.Errorf("%w: profile layer %d: %w", ErrBadSpec, i, err)
		}
	}
	return checkSinkTokens(p.SinkTokens)
}

// DefaultProfile is the layered profile used without a profile file: layers
// 0 and 1 dense, every other layer DefaultSink sinks, a window of budget/4
// and heavy hitters for the rest of budget tokens.
func DefaultProfile(layers, budget int) *Profile {
	return &Profile{Model: "default", Layers: defaultLayers(layers, budget, DefaultSink, budget/4)}
}

// defaultLayers builds the default layered table with the given sink and
// window, both clamped to the budget.
func defaultLayers(layers, budget, sink, window int) []LayerBudget {
	lbs := make([]LayerBudget, layers)
	sparse := split(budget, sink, window, true)
	for i := range lbs {
		if i < DefaultDenseLayers {
			lbs[i] = LayerBudget{Dense: true}
		} else {
			lbs[i] = sparse
		}
	}
	return lbs
}

// split divides a budget of b tokens into sinks, window and, when heavy is
// set, heavy hitters (otherwise the window takes the rest). Sink and window
// are clamped so that they fit.
func split(b, sink, window int, heavy bool) LayerBudget {
	s := min(sink, b)
	w := min(window, b-s)
	if !heavy {
		w = b - s
	}
	return LayerBudget{Sink: s, Window: w, Heavy: b - s - w}
}

// rescale scales the sparse layers of a profile so that their mean budget is
// b tokens: sinks stay (clamped to the new budget), windows and totals scale
// by the same factor, heavy hitters take the rest. A layer without heavy
// hitters keeps none.
func rescale(lbs []LayerBudget, b int) []LayerBudget {
	total, sparse := 0, 0
	for _, lb := range lbs {
		if !lb.Dense {
			total += lb.Budget()
			sparse++
		}
	}
	out := make([]LayerBudget, len(lbs))
	copy(out, lbs)
	if sparse == 0 {
		return out
	}
	f := float64(b) * float64(sparse) / float64(total)
	for i, lb := range lbs {
		if lb.Dense {
			continue
		}
		t := max(1, int(math.Min(float64(lb.Budget())*f+0.5, maxTokens)))
		out[i] = split(t, lb.Sink, int(float64(lb.Window)*f+0.5), lb.Heavy > 0)
	}
	return out
}
