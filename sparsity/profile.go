package sparsity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// rescale scales the sparse layers of a profile so that their budgets sum
// to b tokens per sparse layer, in proportion to the profile's, none over
// capacity (what a layer can hold; fill hands the excess to the others):
// sinks stay (clamped to the new budget), windows scale with their
// layer's total, heavy hitters take the rest, and every sparse layer keeps
// at least 1 token. A layer without heavy hitters keeps none.
func rescale(lbs []LayerBudget, b, capacity int) []LayerBudget {
	var weights []float64
	for _, lb := range lbs {
		if !lb.Dense {
			weights = append(weights, float64(lb.Budget()))
		}
	}
	out := make([]LayerBudget, len(lbs))
	copy(out, lbs)
	if len(weights) == 0 {
		return out
	}
	totals := fill(weights, min(len(weights)*b, maxTokens), capacity)
	k := 0
	for i, lb := range lbs {
		if lb.Dense {
			continue
		}
		t := max(1, totals[k])
		k++
		w := int(float64(lb.Window)*float64(t)/float64(lb.Budget()) + 0.5)
		out[i] = split(t, lb.Sink, w, lb.Heavy > 0)
	}
	return out
}
