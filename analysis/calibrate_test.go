package analysis

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"sieve/sparsity"
)

func TestCalibrateGivesTheDiffuseLayersMore(t *testing.T) {
	seq := plantedSequence()
	res, err := Run(context.Background(), plantedModel(), [][]int32{seq}, Options{Attention: true, Sink: -1, BlockSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		budget  float64
		uniform int
	}{
		{budget: 6, uniform: 6},
		{budget: 0.5, uniform: 8},
	}
	for _, tc := range tests {
		c, err := Calibrate(res, CalibrateOptions{Budget: tc.budget, Floor: 0.25})
		if err != nil {
			t.Fatal(err)
		}
		if c.Uniform != tc.uniform || c.Context != len(seq) {
			t.Fatalf("budget %v: uniform %d over %d tokens, want %d over %d", tc.budget, c.Uniform, c.Context, tc.uniform, len(seq))
		}
		total := 0
		for _, b := range c.Budgets {
			total += b
		}
		if total != 3*tc.uniform {
			t.Errorf("budget %v: budgets %v sum to %d, want %d", tc.budget, c.Budgets, total, 3*tc.uniform)
		}
		// Layer 0 sends everything to one token, layers 1 and 2 spread it
		// evenly (ties go to the lower layer).
		if c.Budgets[0] >= tc.uniform || c.Budgets[1] <= tc.uniform || c.Budgets[2] < tc.uniform {
			t.Errorf("budget %v: budgets %v; want layer 0 under %d and the uniform layers above", tc.budget, c.Budgets, tc.uniform)
		}
		for l, lb := range c.Profile.Layers {
			if lb.Dense || lb.Budget() != c.Budgets[l] || lb.Sink != 0 {
				t.Errorf("budget %v: layer %d is %v, want %d tokens without sinks", tc.budget, l, lb, c.Budgets[l])
			}
		}
		if !slices.Equal(c.Profile.SinkTokens, []int32{plantToken}) {
			t.Errorf("sink tokens %v, want the massive token %d", c.Profile.SinkTokens, plantToken)
		}
		if c.Retained[0] < 0.7 {
			t.Errorf("layer 0 keeps %v of its mass with %d tokens; want most of it", c.Retained[0], c.Budgets[0])
		}
	}
}

func TestCalibrateRejectsBadOptions(t *testing.T) {
	res, err := Run(context.Background(), plantedModel(), [][]int32{plantedSequence()}, Options{Attention: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []CalibrateOptions{{Budget: 0}, {Budget: -1}, {Budget: 2.5}, {Budget: 4, Sink: -1}} {
		if _, err := Calibrate(res, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	noAtt, err := Run(context.Background(), plantedModel(), [][]int32{plantedSequence()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Calibrate(noAtt, CalibrateOptions{Budget: 4}); err == nil {
		t.Error("calibrated without attention statistics")
	}
}

func TestWriteProfileParses(t *testing.T) {
	p := &sparsity.Profile{Model: `a "model"`, SinkTokens: []int32{1, 13},
		Layers: []sparsity.LayerBudget{{Dense: true}, {Sink: 4, Window: 8, Heavy: 20}, {Sink: 4, Window: 28}}}
	var b bytes.Buffer
	if err := WriteProfile(&b, p); err != nil {
		t.Fatal(err)
	}
	got, err := sparsity.ParseProfile(b.Bytes())
	if err != nil {
		t.Fatalf("%v in\n%s", err, b.String())
	}
	if got.Model != p.Model || !slices.Equal(got.SinkTokens, p.SinkTokens) || !slices.Equal(got.Layers, p.Layers) {
		t.Fatalf("parsed %+v, want %+v", got, p)
	}
}

func TestReplayKeepsTheSink(t *testing.T) {
	// Every query gives half its mass to position 0 and half to itself:
	// a window of one plus one sink keeps all of it, a window of two
	// without sinks only the own half once position 0 is evicted.
	weights := func(n int) []float32 {
		w := make([]float32, n)
		w[0] += 0.5
		w[n-1] += 0.5
		return w
	}
	for _, tc := range []struct {
		sink int
		want float64
	}{
		{sink: 1, want: 1},
		{sink: 0, want: 0.5},
	} {
		r := newReplay(2, tc.sink, 1, 1)
		const n = 40
		for i := 1; i <= n; i++ {
			r.query(weights(i))
		}
		// The first queries see few enough keys to keep everything.
		if got := r.retained / n; got < tc.want-0.05 || got > tc.want+0.05 {
			t.Errorf("sink %d: retained %v, want about %v", tc.sink, got, tc.want)
		}
	}
}
