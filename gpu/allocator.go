package gpu

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"sync"
)

// rawAllocator is the backing allocator the cache draws from: cuMemAlloc on
// a device, cuMemAllocHost for pinned host memory, a fake in tests.
type rawAllocator interface {
	Alloc(bytes int) (uintptr, error)
	Free(ptr uintptr) error
}

// AllocStats are a caching allocator's counters, in bytes of size class.
type AllocStats struct {
	Allocated int // handed out and not yet freed
	Cached    int // freed by callers, held for reuse
	Peak      int // highest Allocated since creation or ResetPeak
	Reserved  int // Allocated + Cached: what the backing allocator holds

	RawAllocs int // backing allocations made (cache misses)
	RawFrees  int // backing frees made (Empty, Trim, out-of-memory retry)
	Hits      int // allocations served from the cache
}

// CachingAllocator hands out blocks rounded up to a size class and keeps
// freed blocks in per-class bins for reuse, so a training loop that
// allocates the same shapes every step stops calling the backing allocator
// once warm. On an out-of-memory error it empties its cache and retries
// once. It is safe for concurrent use.
type CachingAllocator struct {
	mu    sync.Mutex
	raw   rawAllocator
	bins  map[int][]uintptr // size class -> free blocks (LIFO)
	live  map[uintptr]int   // block -> size class
	stats AllocStats
}

// newCachingAllocator returns an empty cache over raw.
func newCachingAllocator(raw rawAllocator) *CachingAllocator {
	return &CachingAllocator{raw: raw, bins: map[int][]uintptr{}, live: map[uintptr]int{}}
}

// minBlock is the smallest size class; it keeps every block 512-byte
// aligned in size, as PyTorch's caching allocator does.
const minBlock = 512

// sizeClass rounds n up to its class: 512 bytes at least, then 8 classes per
// power of two, so no block wastes more than 1/8 of its size (plus 512 B).
func sizeClass(n int) int {
	if n <= minBlock {
		return minBlock
	}
	p := 1 << bits.Len(uint(n-1)) // next power of two >= n
	step := max(p/16, minBlock)
	return (n + step - 1) / step * step
}

// Alloc returns a block of at least n bytes (n > 0).
func (a *CachingAllocator) Alloc(n int) (uintptr, error) {
	if n <= 0 {
		return 0, fmt.Errorf("allocate %d bytes: size must be positive", n)
	}
	class := sizeClass(n)
	a.mu.Lock()
	defer a.mu.Unlock()
	if free := a.bins[class]; len(free) > 0 {
		p := free[len(free)-1]
		a.bins[class] = free[:len(free)-1]
		a.stats.Cached -= class
		a.stats.Hits++
		a.handOut(p, class)
		return p, nil
	}
	p, err := a.raw.Alloc(class)
	if err != nil && errors.Is(err, ErrOutOfMemory) && a.stats.Cached > 0 {
		// Cached blocks of other classes may be what the device needs.
		if ferr := a.emptyLocked(0); ferr != nil {
			return 0, errors.Join(err, ferr)
		}
		p, err = a.raw.Alloc(class)
	}
	if err != nil {
		return 0, fmt.Errorf("allocate %d bytes (class %d, %d allocated, %d cached): %w",
			n, class, a.stats.Allocated, a.stats.Cached, err)
	}
	a.stats.RawAllocs++
	a.handOut(p, class)
	return p, nil
}

func (a *CachingAllocator) handOut(p uintptr, class int) {
	a.live[p] = class
	a.stats.Allocated += class
	a.stats.Peak = max(a.stats.Peak, a.stats.Allocated)
}

// Free returns a block to its bin. Freeing an unknown or already freed
// block is an error, not a silent corruption of the bins.
func (a *CachingAllocator) Free(p uintptr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	class, ok := a.live[p]
	if !ok {
		return fmt.Errorf("free block %#x: not allocated by this allocator or already freed", p)
	}
	delete(a.live, p)
	a.stats.Allocated -= class
	a.stats.Cached += class
	a.bins[class] = append(a.bins[class], p)
	return nil
}

// Size returns the size class of a live block, or 0.
func (a *CachingAllocator) Size(p uintptr) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.live[p]
}

// Stats returns the counters.
func (a *CachingAllocator) Stats() AllocStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.Reserved = s.Allocated + s.Cached
	return s
}

// ResetPeak sets Peak to the current Allocated.
func (a *CachingAllocator) ResetPeak() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Peak = a.stats.Allocated
}

// Empty returns every cached block to the backing allocator.
func (a *CachingAllocator) Empty() error { return a.Trim(0) }

// Trim returns cached blocks, largest first, until at most keep bytes stay
// cached.
func (a *CachingAllocator) Trim(keep int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.emptyLocked(keep)
}

func (a *CachingAllocator) emptyLocked(keep int) error {
	classes := make([]int, 0, len(a.bins))
	for c := range a.bins {
		classes = append(classes, c)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(classes)))
	var errs []error
	for _, c := range classes {
		for a.stats.Cached > keep && len(a.bins[c]) > 0 {
			free := a.bins[c]
			p := free[len(free)-1]
			a.bins[c] = free[:len(free)-1]
			a.stats.Cached -= c
			a.stats.RawFrees++
			if err := a.raw.Free(p); err != nil {
				errs = append(errs, fmt.Errorf("free cached block %#x: %w", p, err))
			}
		}
		if len(a.bins[c]) == 0 {
			delete(a.bins, c)
		}
	}
	return errors.Join(errs...)
}

// Close frees every cached block and reports blocks still in use.
func (a *CachingAllocator) Close() error {
	err := a.Empty()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.live) > 0 {
		err = errors.Join(err, fmt.Errorf("close allocator: %d blocks (%d bytes) still allocated", len(a.live), a.stats.Allocated))
	}
	return err
}

// Discard frees every block, cached or still handed out: for an owner that
// drops all its tensors at once. Blocks handed out must not be used after.
func (a *CachingAllocator) Discard() error {
	err := a.Empty()
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for p, class := range a.live {
		errs = append(errs, a.raw.Free(p))
		delete(a.live, p)
		a.stats.Allocated -= class
		a.stats.RawFrees++
	}
	return errors.Join(append(errs, err)...)
}
