package sparsity

import (
	"slices"
	"testing"
)

func TestPlanBounds(t *testing.T) {
	sparse := LayerBudget{Sink: 4, Window: 32, Heavy: 64} // budget 100
	dense := LayerBudget{Dense: true}
	tests := []struct {
		name                 string
		plan                 Plan
		prompt, total, chunk int
		peak, steady         []int
	}{
		{"dense layer holds everything", Plan{Layers: []LayerBudget{dense}, BlockSize: 16}, 300, 1000, 64, []int{1000}, []int{0}},
		// budget 100 + block 16 - 1 + chunk 64
		{"sparse layer: budget, a block less one, a chunk", Plan{Layers: []LayerBudget{dense, sparse}, BlockSize: 16}, 300, 1000, 64, []int{1000, 179}, []int{0, 116}},
		{"short sequence is its own bound", Plan{Layers: []LayerBudget{sparse}, BlockSize: 16}, 50, 110, 64, []int{110}, []int{110}},
		// snapkv holds the prompt (500) plus a chunk less one before it compresses
		{"after-prompt policy holds the prompt", Plan{Layers: []LayerBudget{sparse}, BlockSize: 16, AfterPrompt: true}, 500, 1000, 64, []int{563}, []int{116}},
		{"after-prompt, short prompt", Plan{Layers: []LayerBudget{sparse}, BlockSize: 16, AfterPrompt: true}, 20, 1000, 64, []int{179}, []int{116}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.plan.Bounds(tt.prompt, tt.total, tt.chunk)
			if !slices.Equal(b.Peak, tt.peak) || !slices.Equal(b.Steady, tt.steady) {
				t.Errorf("Bounds(%d, %d, %d) = peak %v steady %v, want %v %v", tt.prompt, tt.total, tt.chunk, b.Peak, b.Steady, tt.peak, tt.steady)
			}
		})
	}
}
