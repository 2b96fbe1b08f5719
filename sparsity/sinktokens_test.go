package sparsity

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSinkTokens(t *testing.T) {
	s, err := ParseSinkTokens(" 13, 1,13 ,2")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.IDs(); !slices.Equal(got, []int32{1, 2, 13}) {
		t.Fatalf("IDs = %v", got)
	}
	if !s.Has(13) || s.Has(3) || (*SinkTokens)(nil).Has(1) {
		t.Fatal("Has is wrong")
	}
	if s, err := ParseSinkTokens(""); s != nil || err != nil {
		t.Fatalf("empty list = %v, %v; want nil, nil", s, err)
	}
	for _, bad := range []string{"x", "-1", "1,,99999999999"} {
		if _, err := ParseSinkTokens(bad); !errors.Is(err, ErrBadSpec) {
			t.Errorf("ParseSinkTokens(%q) error = %v, want ErrBadSpec", bad, err)
		}
	}
	if _, err := ParseProfile([]byte(`{"layers": ["dense"], "sink_tokens": [-2]}`)); !errors.Is(err, ErrBadSpec) {
		t.Errorf("profile with a negative sink token: %v", err)
	}
}

func TestPlanSinkTokens(t *testing.T) {
	prof, err := ParseProfile([]byte(`{"layers": [{"sink": 1, "window": 2, "heavy": 2}], "sink_tokens": [7]}`))
	if err != nil {
		t.Fatal(err)
	}
	layered, err := ParseSpec("layered", 5, "")
	if err != nil {
		t.Fatal(err)
	}
	layered.Budget, layered.Profile = 0, prof
	h2o, err := ParseSpec("h2o", 5, "")
	if err != nil {
		t.Fatal(err)
	}
	h2o.Profile = prof
	tests := []struct {
		name    string
		spec    Spec
		request []int32
		want    []int32
	}{
		{name: "profile's for layered", spec: layered, want: []int32{7}},
		{name: "not the profile's for h2o", spec: h2o},
		{name: "a request's list", spec: h2o, request: []int32{3, 1}, want: []int32{1, 3}},
		{name: "a request replaces the profile's", spec: layered, request: []int32{4}, want: []int32{4}},
		{name: "an empty request list turns them off", spec: layered, request: []int32{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.spec.WithSinkTokens(tc.request)
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Plan(1, 100, 4)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.SinkTokens.IDs(); !slices.Equal(got, tc.want) {
				t.Fatalf("plan sink tokens %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := h2o.WithSinkTokens([]int32{-1}); !errors.Is(err, ErrBadSpec) {
		t.Errorf("negative request sink token: %v", err)
	}
}

func TestSinkKeeper(t *testing.T) {
	tests := []struct {
		name      string
		positions []int32
		scores    []float32
		lb        LayerBudget
		protect   []int
		want      []int
	}{
		{
			name:      "a protected slot displaces a heavy hitter",
			positions: seq(0, 12),
			scores:    []float32{0, 0, 9, 0, 0, 0, 8, 0, 0, 0, 0, 0},
			lb:        LayerBudget{Sink: 1, Window: 2, Heavy: 2},
			protect:   []int{4},
			want:      []int{0, 2, 4, 10, 11},
		},
		{
			name:      "then the window, keeping one slot",
			positions: seq(0, 12),
			lb:        LayerBudget{Sink: 1, Window: 3},
			protect:   []int{3, 5, 7},
			want:      []int{0, 3, 5, 11},
		},
		{
			name:      "a protected sink costs nothing, a protected recent slot one",
			positions: seq(0, 10),
			scores:    []float32{0, 0, 5, 0, 0, 0, 0, 0, 0, 0},
			lb:        LayerBudget{Sink: 2, Window: 2, Heavy: 1},
			protect:   []int{0, 9},
			want:      []int{0, 1, 7, 8, 9},
		},
		{
			name:      "under the budget keeps all",
			positions: seq(0, 4),
			lb:        LayerBudget{Sink: 1, Window: 4},
			protect:   []int{2},
			want:      []int{0, 1, 2, 3},
		},
		{
			name:      "after an eviction, positions differ from indices",
			positions: []int32{0, 5, 9, 12, 13, 20, 21},
			scores:    []float32{0, 3, 1, 2, 0, 0, 0},
			lb:        LayerBudget{Sink: 1, Window: 2, Heavy: 2},
			protect:   []int{2},
			want:      []int{0, 1, 2, 5, 6},
		},
	}
	var k SinkKeeper
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := k.Keep(nil, tc.positions, tc.scores, tc.lb, tc.protect)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Keep = %v, want %v", got, tc.want)
			}
		})
	}
}

// refKeepSinks is SinkKeeper.Keep written plainly: choose the protected
// slots, run refKeep on the rest with the budget they leave, and merge.
func refKeepSinks(positions []int32, scores []float32, lb LayerBudget, protect []int) []int {
	n := len(positions)
	if lb.Dense || n <= lb.Budget() {
		return ints(0, n)
	}
	room := lb.Window + lb.Heavy
	if lb.Window > 0 {
		room--
	}
	keep := map[int]bool{}
	for _, i := range protect {
		if positions[i] >= int32(lb.Sink) && len(keep) < room {
			keep[i] = true
		}
	}
	c := len(keep)
	heavy := max(lb.Heavy-c, 0)
	sub := LayerBudget{Sink: lb.Sink, Heavy: heavy, Window: lb.Window - (c - (lb.Heavy - heavy))}
	var idx []int
	var pos []int32
	var sc []float32
	for i := range n {
		if !keep[i] {
			idx = append(idx, i)
			pos = append(pos, positions[i])
			if scores != nil {
				sc = append(sc, scores[i])
			}
		}
	}
	for _, j := range refKeep(pos, sc, sub) {
		keep[idx[j]] = true
	}
	return sortedKeys(keep)
}

func TestSinkKeeperMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var k SinkKeeper
	var dst []int
	for iter := range 2000 {
		n := r.IntN(40)
		positions := make([]int32, n)
		p := int32(r.IntN(3))
		for i := range positions {
			positions[i] = p
			p += 1 + int32(r.IntN(3))
		}
		var scores []float32
		if r.IntN(6) != 0 {
			scores = make([]float32, n)
			for i := range scores {
				scores[i] = float32(r.IntN(5))
			}
		}
		var protect []int
		for i := range n {
			if r.IntN(5) == 0 {
				protect = append(protect, i)
			}
		}
		lb := LayerBudget{Sink: r.IntN(4), Window: r.IntN(6), Heavy: r.IntN(6)}
		if lb.Budget() == 0 {
			lb.Window = 1
		}
		if scores == nil {
			lb.Heavy = 0
		}
		dst = k.Keep(dst, positions, scores, lb, protect)
		want := refKeepSinks(positions, scores, lb, protect)
		if !slices.Equal(dst, want) {
			t.Fatalf("iteration %d: positions %v scores %v lb %v protect %v: Keep = %v, want %v", iter, positions, scores, lb, protect, dst, want)
		}
		if len(dst) != len(Keep(nil, positions, scores, lb)) {
			t.Fatalf("iteration %d: kept %d slots, Keep keeps %d", iter, len(dst), len(Keep(nil, positions, scores, lb)))
		}
	}
}
