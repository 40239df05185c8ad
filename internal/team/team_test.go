package team

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestForRunsEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ workers, n int }{{1, 5}, {2, 0}, {2, 1}, {2, 7}, {4, 1000}, {16, 3}} {
		counts := make([]atomic.Int32, tc.n)
		For(tc.workers, tc.n, func(w, i int) {
			if w < 0 || w >= max(tc.workers, 1) {
				t.Errorf("worker index %d of %d", w, tc.workers)
			}
			counts[i].Add(1)
		})
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Fatalf("workers %d, n %d: index %d ran %d times", tc.workers, tc.n, i, c)
			}
		}
	}
}

// TestForNestedAndConcurrent: loops started from several goroutines at
// once, and from inside other loops' bodies (a detector's per-image loop
// runs engine kernels that are loops themselves), all complete.
func TestForNestedAndConcurrent(t *testing.T) {
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				For(3, 4, func(_, _ int) {
					For(2, 8, func(_, _ int) { total.Add(1) })
				})
			}
		}()
	}
	wg.Wait()
	if got, want := total.Load(), int64(4*50*4*8); got != want {
		t.Fatalf("ran %d bodies, want %d", got, want)
	}
}

func TestStartRunsEachJob(t *testing.T) {
	const jobs = 200
	var wg sync.WaitGroup
	var ran atomic.Int32
	for range jobs {
		wg.Add(1)
		Start(func() {
			ran.Add(1)
			wg.Done()
		})
	}
	wg.Wait()
	if ran.Load() != jobs {
		t.Fatalf("ran %d jobs, want %d", ran.Load(), jobs)
	}
}

type typedErr struct{ msg string }

func (e *typedErr) Error() string { return e.msg }

// helperPanics runs a loop whose body panics with v on a helper and returns
// what the caller recovers: the caller's body waits until a helper's has
// started, so the helper always gets an index.
func helperPanics(v any) (recovered any) {
	started := make(chan struct{})
	defer func() { recovered = recover() }()
	For(2, 2, func(w, _ int) {
		if w == 0 {
			<-started
			return
		}
		close(started)
		panic(v)
	})
	return nil
}

// TestForReraisesHelperPanicOnCaller: an error a helper panics with reaches
// the caller's recover as the same value, not a crash of the process.
func TestForReraisesHelperPanicOnCaller(t *testing.T) {
	want := &typedErr{"bad shape"}
	if got := helperPanics(want); got != any(want) {
		t.Fatalf("recovered %#v, want the helper's %#v", got, want)
	}
}

// TestForWrapsNonErrorPanicWithHelperStack: other values arrive in a
// *PanicError that keeps them and the stack of the helper.
func TestForWrapsNonErrorPanicWithHelperStack(t *testing.T) {
	got := helperPanics("boom")
	pe, ok := got.(*PanicError)
	if !ok || pe.Value != "boom" {
		t.Fatalf("recovered %#v, want a *PanicError with the value", got)
	}
	if st := string(pe.Stack); !strings.Contains(st, "helperPanics.func") || !strings.Contains(st, "(*helper).loop") {
		t.Errorf("stack is not the helper's in the body:\n%s", st)
	}
	var rerr runtime.Error
	got = helperPanics(runtimeError())
	if !errors.As(got.(error), &rerr) {
		t.Errorf("recovered %#v, want a runtime.Error through errors.As", got)
	}
}

func runtimeError() (err any) {
	defer func() { err = recover() }()
	var s []int
	_ = s[len(s)]
	return nil
}

// TestForPanicStopsClaimingAndWaitsForCallsInFlight: after a panic no new
// index starts, and For returns (panicking) only when every call that did
// start has returned.
func TestForPanicStopsClaimingAndWaitsForCallsInFlight(t *testing.T) {
	const n = 1000
	var started, running atomic.Int32
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("For returned without panicking")
			}
			if r := running.Load(); r != 0 {
				t.Errorf("%d calls still running after For panicked", r)
			}
		}()
		For(4, n, func(_, i int) {
			started.Add(1)
			running.Add(1)
			defer running.Add(-1)
			if i == 3 {
				panic(&typedErr{"stop"})
			}
			time.Sleep(10 * time.Microsecond)
		})
	}()
	if s := started.Load(); s >= n/2 {
		t.Errorf("%d of %d calls started after a panic at index 3", s, n)
	}
	// The pool still works.
	var ran atomic.Int32
	For(4, 100, func(_, _ int) { ran.Add(1) })
	if ran.Load() != 100 {
		t.Fatalf("ran %d of 100 after a panic", ran.Load())
	}
}
