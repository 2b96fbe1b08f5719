package sparsity

import (
	"fmt"
	"strings"
)

// Policy names an eviction policy.
type Policy string

// The policies. Full is the default.
const (
	// Full keeps every slot (the dense baseline).
	Full Policy = "full"
	// Window keeps the sink tokens and the most recent tokens (StreamingLLM).
	Window Policy = "window"
	// H2O keeps sinks, the recent window and the slots with the highest
	// accumulated attention (heavy hitters).
	H2O Policy = "h2o"
	// SnapKV compresses the prompt once by the attention of its last
	// queries, then continues like H2O.
	SnapKV Policy = "snapkv"
	// Pyramid is H2O with budgets that shrink linearly from the lowest layer
	// to the top one, at the same total (PyramidKV).
	Pyramid Policy = "pyramid"
	// Layered takes each layer's budget from a profile: dense or
	// sink + window + heavy hitters.
	Layered Policy = "layered"
)

// Policies returns every policy name, the default first.
func Policies() []Policy {
	return []Policy{Full, Window, H2O, SnapKV, Pyramid, Layered}
}

// ParsePolicy parses a policy name, ignoring case and surrounding spaces; the
// empty string is Full.
func ParsePolicy(s string) (Policy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Full, nil
	}
	for _, p := range Policies() {
		if s == string(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: unknown policy %q (want one of %s)", ErrBadSpec, s, policyList())
}

// policyList joins the policy names for error messages.
func policyList() string {
	ps := Policies()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
