package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
)

// countTask counts how often each index is visited.
type countTask struct{ hits []atomic.Int32 }

func (c *countTask) Range(_, lo, hi int) {
	for i := lo; i < hi; i++ {
		c.hits[i].Add(1)
	}
}

func TestPoolCoversEveryIndexOnce(t *testing.T) {
	for threads := 1; threads <= 5; threads++ {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
			for rep := 0; rep < 20; rep++ {
				c := &countTask{hits: make([]atomic.Int32, n)}
				p.Run(n, c)
				for i := range c.hits {
					if h := c.hits[i].Load(); h != 1 {
						t.Fatalf("threads=%d n=%d: index %d visited %d times", threads, n, i, h)
					}
				}
			}
		}
		p.Close()
	}
}

func TestPoolConcurrentCallers(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 50; rep++ {
				c := &countTask{hits: make([]atomic.Int32, 100)}
				p.Run(100, c)
				for i := range c.hits {
					if c.hits[i].Load() != 1 {
						t.Errorf("index %d visited %d times", i, c.hits[i].Load())
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestPoolRunZeroAlloc(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	c := &countTask{hits: make([]atomic.Int32, 64)}
	if a := testing.AllocsPerRun(100, func() { p.Run(64, c) }); a != 0 {
		t.Errorf("%v allocations per Run", a)
	}
}

func TestNilPool(t *testing.T) {
	var p *Pool
	c := &countTask{hits: make([]atomic.Int32, 10)}
	p.Run(10, c)
	if p.Threads() != 1 || c.hits[9].Load() != 1 {
		t.Error("nil pool did not run the task on the caller")
	}
	p.Close()
}

// panicTask panics on the range holding index at, and counts the rest.
type panicTask struct {
	countTask
	at int
}

func (p *panicTask) Range(w, lo, hi int) {
	if lo <= p.at && p.at < hi {
		panic("injected")
	}
	p.countTask.Range(w, lo, hi)
}

func TestPoolPanicReachesTheCaller(t *testing.T) {
	for threads := 1; threads <= 4; threads++ {
		p := NewPool(threads)
		for _, at := range []int{0, 500, 999} {
			got := func() (v any) {
				defer func() { v = recover() }()
				p.Run(1000, &panicTask{countTask: countTask{hits: make([]atomic.Int32, 1000)}, at: at})
				return nil
			}()
			var value any = got
			if wp, ok := got.(*WorkerPanic); ok {
				value = wp.Value
			}
			if value != "injected" {
				t.Fatalf("threads=%d at=%d: Run panicked with %v, want the task's panic", threads, at, got)
			}
			// The pool still runs jobs, on every worker.
			c := &countTask{hits: make([]atomic.Int32, 1000)}
			p.Run(1000, c)
			for i := range c.hits {
				if c.hits[i].Load() != 1 {
					t.Fatalf("threads=%d: after a panic, index %d visited %d times", threads, i, c.hits[i].Load())
				}
			}
		}
		p.Close()
	}
}

// workerTask checks that every range runs on a valid worker that runs no
// other range of the job at the same time.
type workerTask struct {
	busy []atomic.Bool
	bad  atomic.Int32
	countTask
}

func (w *workerTask) Range(worker, lo, hi int) {
	if worker < 0 || worker >= len(w.busy) || !w.busy[worker].CompareAndSwap(false, true) {
		w.bad.Add(1)
		return
	}
	w.countTask.Range(worker, lo, hi)
	w.busy[worker].Store(false)
}

func TestPoolWorkersAreValidAndExclusive(t *testing.T) {
	for threads := 1; threads <= 4; threads++ {
		p := NewPool(threads)
		for range 20 {
			w := &workerTask{busy: make([]atomic.Bool, threads), countTask: countTask{hits: make([]atomic.Int32, 500)}}
			p.Run(500, w)
			if w.bad.Load() != 0 {
				t.Fatalf("%d threads: %d ranges ran on an invalid or busy worker", threads, w.bad.Load())
			}
			for i := range w.hits {
				if w.hits[i].Load() != 1 {
					t.Fatalf("%d threads: index %d visited %d times", threads, i, w.hits[i].Load())
				}
			}
		}
		p.Close()
	}
	var w workerTask
	w.busy, w.hits = make([]atomic.Bool, 1), make([]atomic.Int32, 7)
	var nilPool *Pool
	nilPool.Run(7, &w)
	if w.bad.Load() != 0 || w.hits[6].Load() != 1 {
		t.Fatal("a nil pool did not run the task as worker 0")
	}
}
