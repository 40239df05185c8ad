// Package team runs parallel work on the calling goroutine and a process-wide
// pool of helper goroutines. A helper that finishes its job polls for the
// next one for a short while before it parks: parallel loops come in quick
// succession in a training step (a GEMM, then a batch norm, then a ReLU...),
// and waking a parked thread costs 40-100 µs on a small VM, as long as a
// whole loop. Every parallel loop of the engine and the detector goes
// through the pool, so a polling helper is what runs the next loop, instead
// of holding a processor that a new goroutine would wait for.
//
// The pool is package state, like OpenMP's and OpenBLAS's thread pools:
// cores are a process-wide resource.
package team

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// linger is how long an idle helper polls for its next job before parking.
const linger = 100 * time.Microsecond

type helper struct {
	jobs   chan func()
	parked atomic.Bool
}

var pool struct {
	mu   sync.Mutex
	idle []*helper
}

// Start runs f on a pooled helper and returns at once. A panic in f ends
// the process, as in any goroutine: nobody waits to receive it (For's
// bodies may panic).
func Start(f func()) {
	pool.mu.Lock()
	var h *helper
	if n := len(pool.idle); n > 0 {
		h = pool.idle[n-1]
		pool.idle[n-1] = nil
		pool.idle = pool.idle[:n-1]
	}
	pool.mu.Unlock()
	if h == nil {
		h = &helper{jobs: make(chan func(), 1)}
		go h.loop(f)
		nudge()
		return
	}
	h.jobs <- f
	if h.parked.Load() {
		nudge()
	}
}

// nudge starts a no-op goroutine. A goroutine made ready (new, or woken
// from a channel) goes to this processor's "run next" slot, which an idle
// processor steals only after a pause of several microseconds; the no-op
// takes the slot and pushes it into the ordinary run queue, stolen at once
// (helper start measured 95 -> 40 µs).
func nudge() { go func() {}() }

func (h *helper) loop(f func()) {
	for {
		f()
		// Drop the finished job before waiting: its closure can hold a
		// stage's tensors, which must not outlive the stage.
		f = nil
		pool.mu.Lock()
		pool.idle = append(pool.idle, h)
		pool.mu.Unlock()
		f = h.next()
	}
}

// next polls for a job for up to linger, yielding to other goroutines as it
// polls, then parks until one comes.
func (h *helper) next() func() {
	var start time.Time
	for spin := 0; ; spin++ {
		select {
		case f := <-h.jobs:
			return f
		default:
		}
		if spin%64 != 63 {
			continue
		}
		runtime.Gosched()
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > linger {
			h.parked.Store(true)
			f := <-h.jobs
			h.parked.Store(false)
			return f
		}
	}
}

// For calls body(worker, i) for every i in [0, n) on the caller (worker 0)
// and up to workers-1 helpers, which claim indices in order from a shared
// counter, so a helper that starts late takes fewer. It returns when every
// call has returned.
//
// A body that panics stops the loop: no new index is claimed, the calls in
// flight finish, and For panics on the caller with the first panic's value
// (see PanicError), so a recover around For sees a helper's panic too and
// nothing still runs on the loop's data once it does.
func For(workers, n int, body func(worker, i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			body(0, i)
		}
		return
	}
	j := &forJob{n: n, body: body, done: make(chan struct{})}
	j.left.Store(int64(n))
	for w := 1; w < workers; w++ {
		Start(func() { j.run(w) })
	}
	j.run(0)
	j.wait()
	if p := j.panicked.Load(); p != nil {
		panic(*p)
	}
}

type forJob struct {
	n          int
	body       func(worker, i int)
	next, left atomic.Int64
	done       chan struct{}
	panicked   atomic.Pointer[any] // the first body's panic, as rethrown gives it
}

func (j *forJob) run(w int) {
	// One deferred recover per member and loop, not per index: cheap.
	defer func() {
		if r := recover(); r != nil {
			j.abort(r)
		}
	}()
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.n {
			return
		}
		j.body(w, i)
		j.finish(1)
	}
}

func (j *forJob) finish(k int64) {
	if j.left.Add(-k) == 0 {
		close(j.done)
	}
}

// abort records the first panic and counts the panicking index and every
// unclaimed one as done, so the waiter returns once the calls in flight do.
func (j *forJob) abort(r any) {
	v := rethrown(r)
	j.panicked.CompareAndSwap(nil, &v)
	unclaimed := max(0, int64(j.n)-j.next.Swap(int64(j.n)))
	j.finish(1 + unclaimed)
}

// wait spins briefly (a helper's last call is normally short), then
// blocks until the last call closes done.
func (j *forJob) wait() {
	for spin := 0; spin < 1024 && j.left.Load() > 0; spin++ {
		if spin%64 == 63 {
			runtime.Gosched()
		}
	}
	<-j.done
}

// PanicError carries a panic from a loop body to the goroutine waiting for
// the loop, with the stack of the goroutine that panicked (re-panicking on
// the waiter prints the waiter's stack, not the body's).
type PanicError struct {
	Value any    // what the body panicked with
	Stack []byte // the panicking goroutine's stack, from debug.Stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("team: loop body panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns Value where it is an error, so errors.As sees through.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// rethrown is the value For re-panics with for a body's panic value r: r
// itself where it is an error (the typed errors callers recover by type),
// else a *PanicError with r and the current stack. A runtime.Error (an
// index out of range...) is a bug, and gets the stack too.
func rethrown(r any) any {
	if err, ok := r.(error); ok {
		if _, bug := err.(runtime.Error); !bug {
			return r
		}
	}
	return &PanicError{Value: r, Stack: debug.Stack()}
}
