package kernels

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Task is a unit of parallel work over the index range [0, n): Range is
// called on disjoint sub-ranges from several workers at once. worker says
// which worker runs a range, so that the task can use that worker's
// scratch memory: it is in [0, Threads()), and no two ranges of one Run
// share a worker at once.
type Task interface {
	Range(worker, lo, hi int)
}

// spinRounds is how many times an idle worker polls for new work (yielding
// in between) before it goes to sleep; back-to-back Runs, as in a forward
// pass, then hand over without waking a sleeping goroutine.
const spinRounds = 2000

// Pool is a persistent set of worker goroutines that split index ranges.
// It starts its goroutines once; Run hands them work without allocating.
// A Pool runs one Run at a time; concurrent callers are serialised.
type Pool struct {
	threads int
	mu      sync.Mutex // held by the caller for a whole Run

	// The current job, published by incrementing gen.
	task  Task
	n     int
	grain int
	next  atomic.Int64 // next index to hand out
	left  atomic.Int32 // workers that have not finished the job
	gen   atomic.Uint64
	stop  atomic.Bool

	sleepMu  sync.Mutex
	wake     *sync.Cond
	sleepers int // guarded by sleepMu

	panicMu  sync.Mutex
	panicked *WorkerPanic // the current job's first panic, guarded by panicMu

	// scratch[w] is worker w's private memory, act the shared activation
	// buffer, mm the reusable matrix-product task; all guarded by mu.
	scratch [][]float32
	act     []byte
	mm      mulTask
	wg      sync.WaitGroup
}

// NewPool starts a pool of threads workers (at least 1). The calling
// goroutine counts as one worker.
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = 1
	}
	p := &Pool{threads: threads, scratch: make([][]float32, threads)}
	p.wake = sync.NewCond(&p.sleepMu)
	p.wg.Add(threads - 1)
	for w := 1; w < threads; w++ {
		go p.worker(w)
	}
	return p
}

// Threads returns the number of workers, the caller included.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// WorkerPanic is what Run panics with on the caller's goroutine when a
// task split over the workers panicked: the value and the stack of the
// worker it panicked on.
type WorkerPanic struct {
	Value any
	Stack []byte
}

// Error implements error.
func (w *WorkerPanic) Error() string {
	return fmt.Sprintf("kernels: a pool worker panicked: %v", w.Value)
}

// Run calls t.Range over [0, n) split into chunks handed to the workers,
// and returns when all chunks are done. A nil Pool runs t on the caller.
// When t panics on any worker, Run waits for the other workers to finish
// the job and then panics on the caller's goroutine, where the caller may
// recover: with a *WorkerPanic when the job was split over workers, with
// the task's own value when it ran on the caller alone. The pool stays
// usable.
func (p *Pool) Run(n int, t Task) {
	if n <= 0 {
		return
	}
	if p == nil {
		t.Range(0, 0, n)
		return
	}
	p.mu.Lock() // also for one chunk: worker 0's scratch is shared
	defer p.mu.Unlock()
	p.run(n, t)
}

// run is Run with p.mu held.
func (p *Pool) run(n int, t Task) {
	if n == 1 || p.threads == 1 {
		t.Range(0, 0, n)
		return
	}
	p.task, p.n = t, n
	p.grain = max(1, n/(4*p.threads))
	p.next.Store(0)
	p.left.Store(int32(p.threads - 1))
	p.gen.Add(1)
	p.sleepMu.Lock()
	if p.sleepers > 0 {
		p.wake.Broadcast()
	}
	p.sleepMu.Unlock()
	p.safeWork(0)
	for i := 0; p.left.Load() != 0; i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	p.task = nil
	p.panicMu.Lock()
	wp := p.panicked
	p.panicked = nil
	p.panicMu.Unlock()
	if wp != nil {
		panic(wp)
	}
}

// safeWork is work that records a panic of the task instead of letting it
// end the goroutine (and, on a worker, the process).
func (p *Pool) safeWork(w int) {
	defer func() {
		if r := recover(); r != nil {
			p.panicMu.Lock()
			if p.panicked == nil {
				p.panicked = &WorkerPanic{Value: r, Stack: debug.Stack()}
			}
			p.panicMu.Unlock()
		}
	}()
	p.work(w)
}

// work takes chunks of the current job until none are left.
func (p *Pool) work(w int) {
	n, g := int64(p.n), int64(p.grain)
	for {
		lo := p.next.Add(g) - g
		if lo >= n {
			return
		}
		hi := min(lo+g, n)
		p.task.Range(w, int(lo), int(hi))
	}
}

// worker is the loop of worker w: wait for a new generation, help with it,
// report done.
func (p *Pool) worker(w int) {
	defer p.wg.Done()
	var seen uint64 // gen is 0 when the pool starts
	for {
		g := p.gen.Load()
		for i := 0; g == seen && i < spinRounds; i++ {
			if p.stop.Load() {
				return
			}
			if i%16 == 15 {
				runtime.Gosched()
			}
			g = p.gen.Load()
		}
		if g == seen {
			p.sleepMu.Lock()
			p.sleepers++
			for p.gen.Load() == seen && !p.stop.Load() {
				p.wake.Wait()
			}
			p.sleepers--
			p.sleepMu.Unlock()
			if p.stop.Load() {
				return
			}
			g = p.gen.Load()
		}
		seen = g
		p.safeWork(w)
		p.left.Add(-1)
	}
}

// scratchFor returns worker w's scratch of at least n floats (contents
// undefined). It allocates only when a larger size is first needed.
func (p *Pool) scratchFor(w, n int) []float32 {
	if cap(p.scratch[w]) < n {
		p.scratch[w] = make([]float32, n)
	}
	return p.scratch[w][:n]
}

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	if p == nil || p.stop.Load() {
		return
	}
	p.stop.Store(true)
	p.sleepMu.Lock()
	p.wake.Broadcast()
	p.sleepMu.Unlock()
	p.wg.Wait()
}
