package kvcache

import "sync"

// panicBox carries a panic from a pool worker back to the goroutine that
// called Run, where the caller (the engine's step) can recover it. A panic
// left on a worker goroutine would end the process.
type panicBox struct {
	mu  sync.Mutex
	val any
	set bool
}

// catch records a panic of the calling worker; use it deferred in Range.
func (p *panicBox) catch() {
	if r := recover(); r != nil {
		p.mu.Lock()
		if !p.set {
			p.val, p.set = r, true
		}
		p.mu.Unlock()
	}
}

// rethrow panics on the caller with the first recorded panic, if any.
func (p *panicBox) rethrow() {
	p.mu.Lock()
	val, set := p.val, p.set
	p.val, p.set = nil, false
	p.mu.Unlock()
	if set {
		panic(val)
	}
}
