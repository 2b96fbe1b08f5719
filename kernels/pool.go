package kernels

import "sync"

// Task is a unit of parallel work over the index range [0, n): Range is
// called on disjoint sub-ranges from several workers at once.
type Task interface {
	Range(lo, hi int)
}

// Pool is a persistent set of worker goroutines that split index ranges.
// It starts its goroutines once; Run hands them work without allocating.
// A Pool runs one Run at a time; concurrent callers are serialised.
type Pool struct {
	threads int
	mu      sync.Mutex
	work    []chan job
	done    sync.WaitGroup
}

type job struct {
	t      Task
	lo, hi int
}

// NewPool starts a pool of threads workers (at least 1). The calling
// goroutine counts as one worker.
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = 1
	}
	p := &Pool{threads: threads, work: make([]chan job, threads-1)}
	for i := range p.work {
		ch := make(chan job, 1)
		p.work[i] = ch
		go p.worker(ch)
	}
	return p
}

func (p *Pool) worker(ch chan job) {
	for j := range ch {
		j.t.Range(j.lo, j.hi)
		p.done.Done()
	}
}

// Threads returns the number of workers, the caller included.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Run calls t.Range over [0, n) split into one contiguous chunk per worker,
// and returns when all chunks are done. A nil Pool runs t on the caller.
func (p *Pool) Run(n int, t Task) {
	if n <= 0 {
		return
	}
	if p == nil || p.threads == 1 || n == 1 {
		t.Range(0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	workers := min(p.threads, n)
	chunk := (n + workers - 1) / workers
	lo := chunk
	p.done.Add(workers - 1)
	for i := 0; i < workers-1; i++ {
		hi := min(lo+chunk, n)
		p.work[i] <- job{t, lo, hi}
		lo = hi
	}
	t.Range(0, chunk)
	p.done.Wait()
}

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	for _, ch := range p.work {
		close(ch)
	}
	p.work = nil
}
