package sparsity

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadSpec is wrapped by every error about a policy, budget or profile.
var ErrBadSpec = errors.New("sparsity: bad spec")

// Defaults that ParseSpec fills in.
const (
	// DefaultSink is the number of first tokens protected as attention sinks.
	DefaultSink = 4
	// DefaultObs is SnapKV's observation window: the last prompt queries
	// whose attention ranks the prompt.
	DefaultObs = 32
	// DefaultKernel is the width of SnapKV's max pooling over positions.
	DefaultKernel = 7
	// DefaultPyramidTop is the top layer's pyramid budget as a fraction of
	// the mean budget, before the sink+window floor. PyramidKV's beta of 20
	// (0.05) leaves the top layers only their sinks and window, and those
	// are where retrieval happens: 0.7 tapers from 1.3 to 0.7 of the mean.
	DefaultPyramidTop = 0.7
	// DefaultDenseLayers is how many lowest layers the default layered
	// profile keeps dense.
	DefaultDenseLayers = 2
)

// maxTokens bounds every token count; positions are int32.
const maxTokens = math.MaxInt32

// Spec is an eviction policy with its budget and parameters, before it is
// bound to a model and a request.
type Spec struct {
	// Policy is the eviction policy.
	Policy Policy
	// Budget is the per-layer token budget: a whole number ≥ 1 is tokens,
	// a value in (0, 1) is a fraction of the request's prompt + max_tokens,
	// and 0 is unset (allowed for Full, and for Layered with a Profile).
	Budget float64
	// Profile gives Layered its per-layer budgets; nil means the default
	// profile. Other policies ignore it.
	Profile *Profile
	// Sink protects the tokens at positions below Sink.
	Sink int
	// Window is the protected recent window of the scored policies; 0 means
	// the policy default (a quarter of the budget; Obs for snapkv). The
	// window policy ignores it: its window is the budget less the sinks.
	Window int
	// Obs is SnapKV's observation window (its last prompt queries).
	Obs int
	// Kernel is the odd width of SnapKV's max pooling.
	Kernel int
	// PyramidTop is the pyramid's top-layer budget as a fraction of Budget,
	// in (0, 1]; the top layer never gets less than Sink + Window.
	PyramidTop float64
	// SinkTokens are token ids protected like sinks wherever they sit
	// (content-aware sinks); nil means none, or the profile's for layered
	// (see WithSinkTokens).
	SinkTokens *SinkTokens
	// noProfileSinks turns the profile's sink tokens off (WithSinkTokens
	// with an empty list).
	noProfileSinks bool
}

// DefaultSpec is the spec of a server or evaluation given no sparsity
// settings: policy full (a dense cache) with the default parameters that
// an override to another policy starts from.
func DefaultSpec() Spec {
	return Spec{
		Policy:     Full,
		Sink:       DefaultSink,
		Obs:        DefaultObs,
		Kernel:     DefaultKernel,
		PyramidTop: DefaultPyramidTop,
	}
}

// ParseSpec builds a validated Spec with default parameters from the server's
// settings: a policy name ("" is full, or layered when a profile is given),
// a budget (see Spec.Budget) and an optional profile file for layered.
func ParseSpec(policy string, budget float64, profilePath string) (Spec, error) {
	p, err := ParsePolicy(policy)
	if err != nil {
		return Spec{}, err
	}
	s := DefaultSpec()
	s.Policy, s.Budget = p, budget
	if profilePath != "" {
		if strings.TrimSpace(policy) == "" {
			s.Policy = Layered
		}
		if s.Policy != Layered {
			return Spec{}, fmt.Errorf("%w: a profile needs policy %s, not %s", ErrBadSpec, Layered, s.Policy)
		}
		if s.Profile, err = LoadProfile(profilePath); err != nil {
			return Spec{}, err
		}
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// ParseBudget parses a budget written as a number ("1024", "0.25") and
// checks it as Spec.Budget; the empty string is 0 (unset).
func ParseBudget(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	b, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: budget %q is not a number", ErrBadSpec, s)
	}
	if err := checkBudget(b); err != nil {
		return 0, err
	}
	return b, nil
}

// Override returns the spec with a request's kv_policy and kv_budget applied
// and validated: an empty policy or a zero budget keeps the server's value.
// The server's profile stays with the spec, used only if the result is
// layered.
func (s Spec) Override(policy string, budget float64) (Spec, error) {
	if strings.TrimSpace(policy) != "" {
		p, err := ParsePolicy(policy)
		if err != nil {
			return Spec{}, err
		}
		s.Policy = p
	}
	if budget != 0 {
		s.Budget = budget
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Validate checks the spec on its own; Plan checks what depends on the model
// and the request.
func (s Spec) Validate() error {
	if _, err := ParsePolicy(string(s.Policy)); err != nil {
		return err
	}
	if err := checkBudget(s.Budget); err != nil {
		return err
	}
	if s.Policy == Full {
		return nil
	}
	if s.Budget == 0 && (s.Policy != Layered || s.Profile == nil) {
		return fmt.Errorf("%w: policy %s needs a budget", ErrBadSpec, s.Policy)
	}
	if s.Sink < 0 || s.Sink > maxTokens || s.Window < 0 || s.Window > maxTokens {
		return fmt.Errorf("%w: sink %d and window %d must be in [0, %d]", ErrBadSpec, s.Sink, s.Window, maxTokens)
	}
	switch s.Policy {
	case SnapKV:
		if s.Obs < 1 || s.Obs > maxTokens {
			return fmt.Errorf("%w: snapkv observation window %d must be at least 1", ErrBadSpec, s.Obs)
		}
		if s.Kernel < 1 || s.Kernel%2 == 0 {
			return fmt.Errorf("%w: snapkv pooling kernel %d must be odd and positive", ErrBadSpec, s.Kernel)
		}
		if s.Window != 0 && s.Window < s.Obs {
			return fmt.Errorf("%w: snapkv window %d is shorter than its observation window %d", ErrBadSpec, s.Window, s.Obs)
		}
	case Pyramid:
		if !(s.PyramidTop > 0 && s.PyramidTop <= 1) {
			return fmt.Errorf("%w: pyramid top fraction %v must be in (0, 1]", ErrBadSpec, s.PyramidTop)
		}
	}
	if b := int(s.Budget); b >= 1 && (s.Policy != Layered || s.Profile == nil) {
		if w := s.fixedWindow(); s.Sink+w > b {
			return s.belowFloor(b, w)
		}
	}
	if s.Profile != nil {
		if err := s.Profile.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// checkBudget checks a budget value on its own.
func checkBudget(b float64) error {
	switch {
	case math.IsNaN(b) || math.IsInf(b, 0):
		return fmt.Errorf("%w: budget %v is not finite", ErrBadSpec, b)
	case b < 0:
		return fmt.Errorf("%w: budget %v is negative", ErrBadSpec, b)
	case b >= 1 && b != math.Trunc(b):
		return fmt.Errorf("%w: budget %v: a budget of 1 or more is a whole number of tokens (use a value below 1 for a fraction)", ErrBadSpec, b)
	case b > maxTokens:
		return fmt.Errorf("%w: budget %v is over %d tokens", ErrBadSpec, b, maxTokens)
	}
	return nil
}

// fixedWindow is the window the spec sets whatever the budget: Window, or
// Obs for snapkv; 0 when the window follows the budget.
func (s Spec) fixedWindow() int {
	switch {
	case s.Policy == Window:
		return 0
	case s.Window > 0:
		return s.Window
	case s.Policy == SnapKV:
		return s.Obs
	}
	return 0
}

// window is the protected recent window of a scored policy at a budget of b
// tokens, before it is clamped to the budget: the fixed window, else b/4.
func (s Spec) window(b int) int {
	if w := s.fixedWindow(); w > 0 {
		return w
	}
	return b / 4
}

// String formats the spec for logs, e.g. "h2o budget=1024 sink=4 window=auto".
func (s Spec) String() string {
	if s.Policy == Full {
		return string(Full)
	}
	var b strings.Builder
	b.WriteString(string(s.Policy))
	if s.Budget != 0 {
		fmt.Fprintf(&b, " budget=%v", s.Budget)
	}
	if s.Policy == Layered && s.Profile != nil {
		fmt.Fprintf(&b, " profile=%q", s.Profile.Model)
	}
	fmt.Fprintf(&b, " sink=%d", s.Sink)
	if s.Policy != Window {
		if s.Window == 0 {
			b.WriteString(" window=auto")
		} else {
			fmt.Fprintf(&b, " window=%d", s.Window)
		}
	}
	switch s.Policy {
	case SnapKV:
		fmt.Fprintf(&b, " obs=%d kernel=%d", s.Obs, s.Kernel)
	case Pyramid:
		fmt.Fprintf(&b, " top=%v", s.PyramidTop)
	}
	return b.String()
}
