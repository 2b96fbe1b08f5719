package sparsity

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseProfile(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    []LayerBudget
		wantErr string
	}{
		{
			name: "all forms",
			json: `{"model": "m", "layers": ["dense", {"dense": true}, {"sink": 4, "window": 8, "heavy": 20}, {"window": 16}, {"heavy": 1}]}`,
			want: []LayerBudget{{Dense: true}, {Dense: true}, {Sink: 4, Window: 8, Heavy: 20}, {Window: 16}, {Heavy: 1}},
		},
		{name: "dense false with counts", json: `{"layers": [{"dense": false, "sink": 2}]}`, want: []LayerBudget{{Sink: 2}}},
		{name: "not json", json: `{"layers": [`, wantErr: "unexpected EOF"},
		{name: "not an object", json: `[1, 2]`, wantErr: "cannot unmarshal"},
		{name: "unknown top field", json: `{"layers": ["dense"], "budget": 5}`, wantErr: `unknown field "budget"`},
		{name: "unknown layer field", json: `{"layers": [{"sink": 4, "windw": 8}]}`, wantErr: `unknown field "windw"`},
		{name: "bad layer string", json: `{"layers": ["sparse"]}`, wantErr: `layer "sparse"`},
		{name: "fractional count", json: `{"layers": [{"heavy": 1.5}]}`, wantErr: "cannot unmarshal"},
		{name: "trailing data", json: `{"layers": ["dense"]} {}`, wantErr: "data after"},
		{name: "no layers", json: `{"model": "m"}`, wantErr: "no layers"},
		{name: "empty layers", json: `{"layers": []}`, wantErr: "no layers"},
		{name: "negative count", json: `{"layers": ["dense", {"sink": 4, "window": -1, "heavy": 9}]}`, wantErr: "layer 1: negative"},
		{name: "zero budget", json: `{"layers": [{}]}`, wantErr: "layer 0: sparse layer with a budget of 0"},
		{name: "null layer", json: `{"layers": [null]}`, wantErr: "budget of 0"},
		{name: "dense with counts", json: `{"layers": [{"dense": true, "window": 8}]}`, wantErr: "dense layer also sets"},
		{name: "over int32", json: `{"layers": [{"heavy": 3000000000}]}`, wantErr: "over 2147483647"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tc.json))
			if tc.wantErr != "" {
				if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseProfile error = %v, want ErrBadSpec containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseProfile: %v", err)
			}
			if !slices.Equal(p.Layers, tc.want) {
				t.Fatalf("layers = %v, want %v", p.Layers, tc.want)
			}
		})
	}
}

func TestProfileRoundTrip(t *testing.T) {
	p, err := LoadProfile("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Model != "small" || len(p.Layers) != 12 || !p.Layers[0].Dense || !p.Layers[1].Dense || p.Layers[2].Dense {
		t.Fatalf("small profile = %+v", p)
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseProfile(data)
	if err != nil {
		t.Fatalf("re-parsing %s: %v", data, err)
	}
	if q.Model != p.Model || !slices.Equal(q.Layers, p.Layers) {
		t.Fatalf("round trip changed the profile: %s", data)
	}
}

func TestLoadProfileNamesFile(t *testing.T) {
	_, err := LoadProfile("testdata/none.json")
	if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), "none.json") {
		t.Fatalf("LoadProfile error = %v, want ErrBadSpec naming the file", err)
	}
}

func TestDefaultProfile(t *testing.T) {
	tests := []struct {
		layers, budget int
		sparse         LayerBudget
	}{
		{layers: 12, budget: 1024, sparse: LayerBudget{Sink: 4, Window: 256, Heavy: 764}},
		{layers: 16, budget: 100, sparse: LayerBudget{Sink: 4, Window: 25, Heavy: 71}},
		{layers: 3, budget: 6, sparse: LayerBudget{Sink: 4, Window: 1, Heavy: 1}},
		{layers: 3, budget: 2, sparse: LayerBudget{Sink: 2}},
		{layers: 2, budget: 1024},
		{layers: 1, budget: 1024},
	}
	for _, tc := range tests {
		p := DefaultProfile(tc.layers, tc.budget)
		if err := p.Validate(); err != nil {
			t.Fatalf("DefaultProfile(%d, %d): %v", tc.layers, tc.budget, err)
		}
		if len(p.Layers) != tc.layers {
			t.Fatalf("DefaultProfile(%d, %d) has %d layers", tc.layers, tc.budget, len(p.Layers))
		}
		for l, lb := range p.Layers {
			want := tc.sparse
			if l < DefaultDenseLayers {
				want = LayerBudget{Dense: true}
			}
			if lb != want {
				t.Fatalf("DefaultProfile(%d, %d) layer %d = %v, want %v", tc.layers, tc.budget, l, lb, want)
			}
		}
	}
}

func TestRescale(t *testing.T) {
	in := []LayerBudget{{Dense: true}, {Sink: 4, Window: 60, Heavy: 136}, {Sink: 4, Window: 96}, {Sink: 4, Window: 40, Heavy: 52}}
	tests := []struct {
		b, capacity int
		want        []LayerBudget
	}{
		{b: 132, want: in}, // the profile's own mean: unchanged
		{b: 66, want: []LayerBudget{{Dense: true}, {Sink: 4, Window: 30, Heavy: 66}, {Sink: 4, Window: 46}, {Sink: 4, Window: 20, Heavy: 24}}},
		{b: 1, want: []LayerBudget{{Dense: true}, {Sink: 1}, {Sink: 1}, {Sink: 1}}},
		// Layer 1 can hold only 150 of its 200: the other 246 go to layers
		// 2 and 3 in proportion to their 100 and 96 (125.51 and 120.49,
		// the token left over to the larger fraction); windows scale with
		// their layer (60 × 150/200, 40 × 120/96).
		{b: 132, capacity: 150, want: []LayerBudget{{Dense: true}, {Sink: 4, Window: 45, Heavy: 101}, {Sink: 4, Window: 122}, {Sink: 4, Window: 50, Heavy: 66}}},
	}
	for _, tc := range tests {
		capacity := tc.capacity
		if capacity == 0 {
			capacity = maxTokens
		}
		got := rescale(in, tc.b, capacity)
		if !slices.Equal(got, tc.want) {
			t.Errorf("rescale to %d in %d = %v, want %v", tc.b, tc.capacity, got, tc.want)
		}
	}
	if in[1] != (LayerBudget{Sink: 4, Window: 60, Heavy: 136}) {
		t.Fatalf("rescale changed its input: %v", in)
	}
	if got := rescale([]LayerBudget{{Dense: true}}, 10, maxTokens); !slices.Equal(got, []LayerBudget{{Dense: true}}) {
		t.Fatalf("rescale of an all-dense profile = %v", got)
	}
}

func TestPlanRescalesProfile(t *testing.T) {
	s := mustSpec(t, "layered", 0.05, "testdata/small.json")
	p, err := s.Plan(12, 20000, 16) // budget 1000 tokens per sparse layer
	if err != nil {
		t.Fatal(err)
	}
	total, sparse := 0, 0
	for l, lb := range p.Layers {
		if lb.Dense != s.Profile.Layers[l].Dense {
			t.Fatalf("layer %d: dense %v, profile %v", l, lb.Dense, s.Profile.Layers[l])
		}
		if !lb.Dense {
			total += lb.Budget()
			sparse++
			if lb.Sink != 4 || (lb.Heavy == 0) != (s.Profile.Layers[l].Heavy == 0) {
				t.Fatalf("layer %d: %v from %v", l, lb, s.Profile.Layers[l])
			}
		}
	}
	if mean := float64(total) / float64(sparse); mean < 995 || mean > 1005 {
		t.Fatalf("mean sparse budget %v, want about 1000: %v", mean, p.Layers)
	}
}
