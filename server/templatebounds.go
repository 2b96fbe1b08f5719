package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/ardanlabs/jinja"
)

// Bounds of one chat template rendering. The Jinja library has no
// cancellation, output cap or step limit of its own, so Sieve bounds what
// it can from outside (see boundedRender).
const (
	// templateTimeout bounds the wall time of one rendering; real chat
	// templates take microseconds.
	templateTimeout = time.Second
	// maxRangeItems bounds the items that range() makes over a whole
	// rendering. jinja2's sandbox, which vLLM and Hugging Face render chat
	// templates in, refuses a single range over 100000 items (MAX_RANGE);
	// Sieve counts every call against one budget, so that nested loops are
	// bounded too.
	maxRangeItems = 100_000
)

// errTemplateLimit marks a rendering stopped by one of the bounds: the
// template is at fault, not the request (a 500).
var errTemplateLimit = errors.New("stopped")

// renderSlots returns the semaphore of renderings in flight. A rendering
// that overruns its deadline cannot be stopped (the library has no hook for
// it) and runs on in its goroutine until it ends; it keeps its slot until
// then, so at most this many can pile up, and further chat requests wait
// for a slot within their own deadline instead of starting more.
func renderSlots() chan struct{} {
	return make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
}

// boundedRender renders t with data within the bounds: it honours ctx
// (the client's request) and timeout (templateTimeout in the server), gives the template a
// range() that stops on the deadline or past maxRangeItems items in all,
// and turns a panic inside the library into an error.
func boundedRender(ctx context.Context, slots chan struct{}, timeout time.Duration, t *jinja.Template, data map[string]jinja.Value) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return "", renderStopped(ctx, timeout, "while every rendering slot was held by earlier renderings still running")
	}
	budget := maxRangeItems
	data["range"] = jinja.NewCallable("range", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if ctx.Err() != nil {
			return jinja.Undefined(), renderStopped(ctx, timeout, "in a loop")
		}
		return boundedRange(args, &budget)
	})
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-slots }()
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: fmt.Errorf("chat template failed: %v", v)}
			}
		}()
		out, err := t.RenderValues(data)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		return "", renderStopped(ctx, timeout, "")
	}
}

// renderStopped is the error for a rendering whose ctx ended: the
// client's cancellation, or the deadline.
func renderStopped(ctx context.Context, timeout time.Duration, where string) error {
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return context.Canceled
	}
	if where != "" {
		where = " " + where
	}
	return fmt.Errorf("%w: it did not finish within %v%s", errTemplateLimit, timeout, where)
}

// boundedRange is Python's range(stop), range(start, stop) and
// range(start, stop, step) over integers, refused when it would make more
// items than are left in *budget.
func boundedRange(args []jinja.Value, budget *int) (jinja.Value, error) {
	var a [3]int64
	for i, v := range args {
		if i >= 3 || !v.IsInt() {
			return jinja.Undefined(), fmt.Errorf("range: want 1 to 3 integer arguments")
		}
		a[i] = v.AsInt()
	}
	start, stop, step := int64(0), a[0], int64(1)
	switch len(args) {
	case 0:
		return jinja.Undefined(), fmt.Errorf("range: want 1 to 3 integer arguments")
	case 2:
		start, stop = a[0], a[1]
	case 3:
		start, stop, step = a[0], a[1], a[2]
	}
	n, err := rangeLen(start, stop, step)
	if err != nil {
		return jinja.Undefined(), err
	}
	if n > uint64(*budget) {
		return jinja.Undefined(), fmt.Errorf("%w: range() would make %d items, over the %d that one rendering may make", errTemplateLimit, n, maxRangeItems)
	}
	*budget -= int(n)
	items := make([]jinja.Value, n)
	for i := range items {
		items[i] = jinja.NewInt(start + int64(i)*step)
	}
	return jinja.NewList(items), nil
}

// rangeLen counts the items of range(start, stop, step) without
// overflowing, as unsigned distances.
func rangeLen(start, stop, step int64) (uint64, error) {
	switch {
	case step == 0:
		return 0, fmt.Errorf("range: step must not be zero")
	case step > 0 && stop > start:
		return (uint64(stop)-uint64(start)-1)/uint64(step) + 1, nil
	case step < 0 && stop < start:
		return (uint64(start)-uint64(stop)-1)/(uint64(-(step+1))+1) + 1, nil
	}
	return 0, nil
}
