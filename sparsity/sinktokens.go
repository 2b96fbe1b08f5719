package sparsity

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SinkTokens is a set of token ids that are protected like sinks wherever
// they sit in a sequence: content-aware sinks, for the tokens that carry
// massive activations (typically BOS and the first "." or "\n"), which
// attract attention whatever their position. A nil set protects nothing.
type SinkTokens struct {
	ids []int32 // increasing, no repeats
}

// NewSinkTokens makes a set of the given ids; it returns nil for none.
func NewSinkTokens(ids []int32) (*SinkTokens, error) {
	if err := checkSinkTokens(ids); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	return &SinkTokens{ids: slices.Compact(s)}, nil
}

// ParseSinkTokens parses a comma-separated list of token ids ("1,13"); the
// empty string is the nil set.
func ParseSinkTokens(list string) (*SinkTokens, error) {
	var ids []int32
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		id, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: sink token %q is not a token id", ErrBadSpec, f)
		}
		ids = append(ids, int32(id))
	}
	return NewSinkTokens(ids)
}

// checkSinkTokens rejects negative ids.
func checkSinkTokens(ids []int32) error {
	for _, id := range ids {
		if id < 0 {
			return fmt.Errorf("%w: sink token id %d is negative", ErrBadSpec, id)
		}
	}
	return nil
}

// Has reports whether id is in the set.
func (t *SinkTokens) Has(id int32) bool {
	if t == nil {
		return false
	}
	_, ok := slices.BinarySearch(t.ids, id)
	return ok
}

// IDs returns the ids in increasing order.
func (t *SinkTokens) IDs() []int32 {
	if t == nil {
		return nil
	}
	return slices.Clone(t.ids)
}

// WithSinkTokens returns the spec with a request's content-aware sink
// tokens: nil keeps the spec's, an empty list turns them off, and any
// other list replaces them.
func (s Spec) WithSinkTokens(ids []int32) (Spec, error) {
	if ids == nil {
		return s, nil
	}
	t, err := NewSinkTokens(ids)
	if err != nil {
		return Spec{}, err
	}
	s.SinkTokens, s.noProfileSinks = t, t == nil
	return s, nil
}

// planSinkTokens is the set a plan protects: the spec's, or else, for
// layered with a profile, the profile's sink_tokens.
func (s Spec) planSinkTokens() *SinkTokens {
	if s.SinkTokens != nil || s.noProfileSinks || s.Policy != Layered || s.Profile == nil {
		return s.SinkTokens
	}
	t, err := NewSinkTokens(s.Profile.SinkTokens)
	if err != nil {
		return nil // Profile.Validate has rejected it
	}
	return t
}

// SinkKeeper is Keep with content-aware sinks. It reuses its buffers, so
// steady-state calls do not allocate; the zero value is ready to use.
type SinkKeeper struct {
	pos    []int32
	scores []float32
	idx    []int
	sub    []int
	chosen []int
}

// Keep is Keep with the slots listed in protect (indices, increasing) kept
// like sinks wherever they sit. Those below lb.Sink are sinks already;
// each other one takes a slot of the budget, from the heavy hitters first,
// then from the window, which keeps at least one slot when lb.Window is
// set. When more are listed than fit, the earliest are kept.
// The result is appended to dst[:0]; it holds exactly as many slots as
// Keep's would.
func (k *SinkKeeper) Keep(dst []int, positions []int32, scores []float32, lb LayerBudget, protect []int) []int {
	n := len(positions)
	if lb.Dense || n <= lb.Budget() || len(protect) == 0 {
		return Keep(dst, positions, scores, lb)
	}
	s := 0
	for s < n && positions[s] < int32(lb.Sink) {
		s++
	}
	room := lb.Window + lb.Heavy - min(1, lb.Window)
	k.chosen = k.chosen[:0]
	for _, i := range protect {
		if i >= s && len(k.chosen) < room {
			k.chosen = append(k.chosen, i)
		}
	}
	if len(k.chosen) == 0 {
		return Keep(dst, positions, scores, lb)
	}
	c := len(k.chosen)
	sub := lb
	sub.Heavy -= min(c, lb.Heavy)
	sub.Window -= c - (lb.Heavy - sub.Heavy)
	k.pos, k.scores, k.idx = k.pos[:0], k.scores[:0], k.idx[:0]
	j := 0
	for i := range n {
		if j < c && k.chosen[j] == i {
			j++
			continue
		}
		k.idx = append(k.idx, i)
		k.pos = append(k.pos, positions[i])
		if scores != nil {
			k.scores = append(k.scores, scores[i])
		}
	}
	subScores := k.scores
	if scores == nil {
		subScores = nil
	}
	k.sub = Keep(k.sub, k.pos, subScores, sub)
	dst = dst[:0]
	a, b := 0, 0
	for a < len(k.sub) || b < c {
		if b == c || (a < len(k.sub) && k.idx[k.sub[a]] < k.chosen[b]) {
			dst = append(dst, k.idx[k.sub[a]])
			a++
		} else {
			dst = append(dst, k.chosen[b])
			b++
		}
	}
	return dst
}
