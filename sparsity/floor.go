package sparsity

import "fmt"

// CheckFloor refuses a spec whose budget, resolved for a request of
// requestTokens (prompt + max_tokens), cannot hold its attention sinks
// plus a recent window of at least one token. A budget in tokens must also
// hold the policy's fixed window (snapkv's observation window), as
// Validate checks; a fraction of a short request may shrink that window to
// fit, as Plan does. Plan clamps such a budget instead (keeping sinks only, or
// fewer); servers call CheckFloor on client requests so that a budget like
// 0.00001 is refused with the minimum rather than silently degraded. A
// budget that covers the whole request evicts nothing and always passes,
// and so does full and layered with a profile, which sets every layer's
// counts itself.
func (s Spec) CheckFloor(requestTokens int) error {
	if s.Policy == Full || (s.Policy == Layered && s.Profile != nil) || requestTokens <= 0 {
		return nil
	}
	b, err := s.resolve(requestTokens)
	if err != nil || b >= requestTokens {
		return err
	}
	w := 1
	if s.Budget >= 1 {
		w = max(1, s.fixedWindow())
	}
	floor := s.Sink + w
	if b >= floor || floor >= requestTokens {
		return nil // a request no longer than the floor never loses a sink or its window
	}
	if s.Budget < 1 {
		return fmt.Errorf("%w: budget %v keeps %d of this request's %d tokens, below the %s policy's minimum of %d (%d sink tokens + a window of %d); use a budget of at least %d tokens or a fraction of at least %.4g",
			ErrBadSpec, s.Budget, b, requestTokens, s.Policy, floor, s.Sink, w, floor, float64(floor)/float64(requestTokens))
	}
	return s.belowFloor(b, w)
}

// belowFloor is the error for a budget of b tokens that cannot hold the
// policy's sinks and a window of w (at least 1): it names the minimum in
// tokens, for every policy alike (Validate and CheckFloor both use it).
func (s Spec) belowFloor(b, w int) error {
	w = max(1, w)
	return fmt.Errorf("%w: budget %d is below the %s policy's minimum of %d tokens (%d sink tokens + a window of %d)",
		ErrBadSpec, b, s.Policy, s.Sink+w, s.Sink, w)
}
