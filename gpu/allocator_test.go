package gpu

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeRaw is a backing allocator with a byte budget that records calls.
type fakeRaw struct {
	next   uintptr
	budget int
	used   int
	blocks map[uintptr]int
	allocs []int
	frees  []uintptr
}

func newFakeRaw(budget int) *fakeRaw {
	return &fakeRaw{next: 0x1000, budget: budget, blocks: map[uintptr]int{}}
}

func (f *fakeRaw) Alloc(n int) (uintptr, error) {
	if f.used+n > f.budget {
		return 0, &CUDAError{Call: "cuMemAlloc_v2", Code: resultOutOfMemory, Name: "CUDA_ERROR_OUT_OF_MEMORY", Desc: "out of memory"}
	}
	p := f.next
	f.next += uintptr(n) + 0x1000
	f.used += n
	f.blocks[p] = n
	f.allocs = append(f.allocs, n)
	return p, nil
}

func (f *fakeRaw) Free(p uintptr) error {
	n, ok := f.blocks[p]
	if !ok {
		return fmt.Errorf("fake: free of unknown %#x", p)
	}
	delete(f.blocks, p)
	f.used -= n
	f.frees = append(f.frees, p)
	return nil
}

func TestSizeClass(t *testing.T) {
	tests := []struct{ n, want int }{
		{1, 512}, {512, 512}, {513, 1024}, {1000, 1024}, {1025, 1536}, {4096, 4096},
		{4097, 4608}, {1 << 20, 1 << 20}, {1<<20 + 1, 1<<20 + 1<<17}, {3 << 20, 3 << 20},
		{5<<20 + 7, 5<<20 + 1<<19},
	}
	for _, tc := range tests {
		got := sizeClass(tc.n)
		if got != tc.want {
			t.Errorf("sizeClass(%d) = %d, want %d", tc.n, got, tc.want)
		}
		if got < tc.n || got%minBlock != 0 {
			t.Errorf("sizeClass(%d) = %d: smaller than request or not a multiple of %d", tc.n, got, minBlock)
		}
		if tc.n > 4096 && float64(got-tc.n) > float64(got)/8+minBlock {
			t.Errorf("sizeClass(%d) = %d wastes more than 1/8", tc.n, got)
		}
	}
}

func TestCachingAllocatorReuse(t *testing.T) {
	raw := newFakeRaw(1 << 30)
	a := newCachingAllocator(raw)
	// Two warm-up "steps" allocating the same shapes: the second must be
	// served entirely from the cache.
	sizes := []int{100, 4000, 4000, 1 << 20, 3000}
	for step := 0; step < 3; step++ {
		var ptrs []uintptr
		for _, n := range sizes {
			p, err := a.Alloc(n)
			if err != nil {
				t.Fatal(err)
			}
			ptrs = append(ptrs, p)
		}
		for _, p := range ptrs {
			if err := a.Free(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := a.Stats()
	if s.RawAllocs != len(sizes) {
		t.Errorf("RawAllocs = %d, want %d (one per block of the first step)", s.RawAllocs, len(sizes))
	}
	if s.Hits != 2*len(sizes) {
		t.Errorf("Hits = %d, want %d", s.Hits, 2*len(sizes))
	}
	want := 512 + 4096 + 4096 + (1 << 20) + 3072
	if s.Allocated != 0 || s.Cached != want || s.Reserved != want || s.Peak != want {
		t.Errorf("stats = %+v, want Allocated 0, Cached=Reserved=Peak=%d", s, want)
	}
	if err := a.Empty(); err != nil {
		t.Fatal(err)
	}
	s = a.Stats()
	if s.Cached != 0 || s.Reserved != 0 || raw.used != 0 || s.RawFrees != len(sizes) {
		t.Errorf("after Empty: stats %+v, raw used %d", s, raw.used)
	}
}

func TestCachingAllocatorPeakAndTrim(t *testing.T) {
	raw := newFakeRaw(1 << 30)
	a := newCachingAllocator(raw)
	p1, _ := a.Alloc(1 << 20)
	p2, _ := a.Alloc(2 << 20)
	p3, _ := a.Alloc(512)
	if got := a.Stats().Peak; got != 3<<20+512 {
		t.Errorf("Peak = %d, want %d", got, 3<<20+512)
	}
	for _, p := range []uintptr{p1, p2, p3} {
		if err := a.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	a.ResetPeak()
	if got := a.Stats().Peak; got != 0 {
		t.Errorf("Peak after ResetPeak = %d, want 0", got)
	}
	// Trim frees largest first: keeping 1.5 MiB drops only the 2 MiB block.
	if err := a.Trim(3 << 19); err != nil {
		t.Fatal(err)
	}
	s := a.Stats()
	if s.Cached != 1<<20+512 || len(raw.frees) != 1 || raw.frees[0] != p2 {
		t.Errorf("after Trim: cached %d, raw frees %v (want only %#x)", s.Cached, raw.frees, p2)
	}
}

func TestCachingAllocatorErrors(t *testing.T) {
	a := newCachingAllocator(newFakeRaw(1 << 20))
	if _, err := a.Alloc(0); err == nil {
		t.Error("Alloc(0): want error")
	}
	p, err := a.Alloc(10)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Free(p); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(p); err == nil || !strings.Contains(err.Error(), "already freed") {
		t.Errorf("double free: err = %v, want 'already freed'", err)
	}
	if err := a.Free(0xdead); err == nil {
		t.Error("free of unknown pointer: want error")
	}
	q, _ := a.Alloc(10)
	if err := a.Close(); err == nil || !strings.Contains(err.Error(), "1 blocks") {
		t.Errorf("Close with a live block: err = %v", err)
	}
	_ = a.Free(q)
}

func TestCachingAllocatorOutOfMemoryRetry(t *testing.T) {
	raw := newFakeRaw(4 << 20)
	a := newCachingAllocator(raw)
	// Fill the budget with cached 1 MiB blocks, then ask for 2 MiB: the
	// cache must be emptied and the allocation retried.
	var ps []uintptr
	for i := 0; i < 4; i++ {
		p, err := a.Alloc(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		_ = a.Free(p)
	}
	if _, err := a.Alloc(2 << 20); err != nil {
		t.Fatalf("Alloc after emptying the cache: %v", err)
	}
	s := a.Stats()
	if s.Cached != 0 || s.Allocated != 2<<20 || s.RawFrees != 4 {
		t.Errorf("stats = %+v", s)
	}
	// A request the device cannot hold fails with ErrOutOfMemory.
	_, err := a.Alloc(8 << 20)
	if !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("Alloc beyond budget: err = %v, want ErrOutOfMemory", err)
	}
}

// TestCachingAllocatorDiscard: Discard returns cached and live blocks alike
// to the backing allocator, for a trainer that drops its models at once.
func TestCachingAllocatorDiscard(t *testing.T) {
	raw := newFakeRaw(1 << 20)
	a := newCachingAllocator(raw)
	p, _ := a.Alloc(1000)
	if _, err := a.Alloc(3000); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(p); err != nil {
		t.Fatal(err)
	}
	if err := a.Discard(); err != nil {
		t.Fatal(err)
	}
	if len(raw.blocks) != 0 || raw.used != 0 {
		t.Errorf("after Discard the backing allocator still holds %d blocks (%d bytes)", len(raw.blocks), raw.used)
	}
	if s := a.Stats(); s.Allocated != 0 || s.Cached != 0 {
		t.Errorf("stats after Discard: %+v", s)
	}
}
