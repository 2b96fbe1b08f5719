package sparsity

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// LayerBudget is what one layer of one sequence may keep: everything (Dense),
// or Sink + Window + Heavy slots.
type LayerBudget struct {
	// Dense keeps every slot; the counts below are then zero and unused.
	Dense bool
	// Sink protects the slots at positions below Sink (the first tokens).
	Sink int
	// Window protects the Window most recent slots.
	Window int
	// Heavy is the number of other slots kept by highest score.
	Heavy int
}

// Budget is the number of slots a sparse layer keeps: Sink + Window + Heavy.
func (lb LayerBudget) Budget() int { return lb.Sink + lb.Window + lb.Heavy }

// String formats the budget as "dense" or "sink+window+heavy".
func (lb LayerBudget) String() string {
	if lb.Dense {
		return "dense"
	}
	return fmt.Sprintf("%d+%d+%d", lb.Sink, lb.Window, lb.Heavy)
}

// ShouldEvict reports whether a layer holding n slots is due for compaction:
// it is sparse and holds at least one block more than its budget, so that
// compacting it to Budget() slots frees at least one whole block.
func ShouldEvict(n int, lb LayerBudget, blockSize int) bool {
	return !lb.Dense && n >= lb.Budget()+blockSize
}

// validate checks the counts of one layer.
func (lb LayerBudget) validate() error {
	if lb.Sink < 0 || lb.Window < 0 || lb.Heavy < 0 {
		return fmt.Errorf("negative count in %s", lb)
	}
	if lb.Dense {
		if lb.Budget() != 0 {
			return fmt.Errorf("dense layer also sets sink, window or heavy (%d+%d+%d)", lb.Sink, lb.Window, lb.Heavy)
		}
		return nil
	}
	if lb.Sink > maxTokens || lb.Window > maxTokens || lb.Heavy > maxTokens || lb.Budget() > maxTokens {
		return fmt.Errorf("budget %s over %d tokens", lb, maxTokens)
	}
	if lb.Budget() == 0 {
		return fmt.Errorf("sparse layer with a budget of 0 (set sink, window or heavy, or dense)")
	}
	return nil
}

// layerJSON is a profile layer as written in JSON.
type layerJSON struct {
	Dense  bool `json:"dense,omitempty"`
	Sink   int  `json:"sink,omitempty"`
	Window int  `json:"window,omitempty"`
	Heavy  int  `json:"heavy,omitempty"`
}

// MarshalJSON writes {"dense": true} or {"sink": s, "window": w, "heavy": h}.
func (lb LayerBudget) MarshalJSON() ([]byte, error) {
	if lb.Dense {
		return []byte(`{"dense":true}`), nil
	}
	return fmt.Appendf(nil, `{"sink":%d,"window":%d,"heavy":%d}`, lb.Sink, lb.Window, lb.Heavy), nil
}

// UnmarshalJSON reads the string "dense" or an object with the fields dense,
// sink, window and heavy (missing counts are 0; other fields are errors).
// It does not validate the counts; Profile does.
func (lb *LayerBudget) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		if s != "dense" {
			return fmt.Errorf("layer %q: want \"dense\" or an object", s)
		}
		*lb = LayerBudget{Dense: true}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v layerJSON
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*lb = LayerBudget(v)
	return nil
}
