package team

import (
	"sync"
	"sync/atomic"
	"testing"
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
