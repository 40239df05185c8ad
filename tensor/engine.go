package tensor

import (
	"math/bits"
)

// Engine owns a Device, a pool of reusable buffers and the grad mode. It is
// not safe for concurrent use: give each goroutine (data-parallel replica) its
// own Engine.
type Engine struct {
	dev         Device
	gradEnabled bool

	pool    map[int][]Buffer      // free buffers by size class (see sizeClass)
	views   map[Buffer]Buffer     // buffer handed out by get -> its pooled base
	idxPool map[int][]IndexBuffer // free index buffers by exact length
	pooled  int                   // elements held in the pools, idle ones included
	limit   int                   // most pooled elements kept; 0: no limit

	// Free buffers not taken since the last TrimIdle, which frees them.
	idle    map[int][]Buffer
	idleIdx map[int][]IndexBuffer

	scratch    []Buffer      // buffers owned by scratch tensors, in allocation order
	scratchIdx []IndexBuffer // index buffers owned by scratch index tensors

	freeGraph bool     // Backward frees activations (SetFreeGraph)
	autocast  Autocast // format of convolutions and matrix products (SetAutocast)
	freeHint  int      // where the last freed buffer sat in scratch
}

// NewEngine returns an Engine on dev with gradients enabled.
func NewEngine(dev Device) *Engine {
	return &Engine{
		dev:         dev,
		gradEnabled: true,
		pool:        map[int][]Buffer{},
		views:       map[Buffer]Buffer{},
		idxPool:     map[int][]IndexBuffer{},
		idle:        map[int][]Buffer{},
		idleIdx:     map[int][]IndexBuffer{},
	}
}

// Device returns the engine's device.
func (e *Engine) Device() Device { return e.dev }

// GradEnabled reports whether operations record the graph for Backward.
func (e *Engine) GradEnabled() bool { return e.gradEnabled }

// SetGradEnabled switches graph recording on or off and returns the previous
// setting, so callers can restore it with defer.
func (e *Engine) SetGradEnabled(on bool) bool {
	prev := e.gradEnabled
	e.gradEnabled = on
	return prev
}

// NoGrad runs fn with graph recording off (inference).
func (e *Engine) NoGrad(fn func()) {
	prev := e.SetGradEnabled(false)
	defer e.SetGradEnabled(prev)
	fn()
}

// Mark returns a position in the scratch allocations for Release.
type Mark struct{ buf, idx int }

// Mark records the current scratch position.
func (e *Engine) Mark() Mark { return Mark{len(e.scratch), len(e.scratchIdx)} }

// Release returns every scratch buffer allocated since m to the pool. Tensors
// created since m, and gradients of scratch tensors computed since m, must
// not be used afterwards: copy results to the host (Tensor.Data) first.
// Persistent tensors and their gradients are unaffected.
func (e *Engine) Release(m Mark) {
	for _, b := range e.scratch[m.buf:] {
		e.put(b) // nil for buffers already returned by Free
	}
	clear(e.scratch[m.buf:])
	e.scratch = e.scratch[:m.buf]
	for _, b := range e.scratchIdx[m.idx:] {
		e.putIndex(b)
	}
	clear(e.scratchIdx[m.idx:])
	e.scratchIdx = e.scratchIdx[:m.idx]
}

// Free returns the buffers of scratch tensors to the pool before Release,
// so a long no-grad forward pass (inference on large images) holds only the
// activations still needed. It must run with grad mode off: with it on, a
// tensor may be saved for a backward pass. Tensors that share another's
// buffer (Reshape results), persistent tensors and tensors in a graph are
// left alone. A freed tensor must not be used again.
func (e *Engine) Free(ts ...*Tensor) {
	if e.gradEnabled {
		Panicf("tensor: Free with grad mode on")
	}
	for _, t := range ts {
		if t == nil || t.node != nil {
			continue
		}
		e.freeScratch(t)
	}
}

// SetFreeGraph makes Backward hand each intermediate tensor's buffer back
// to the pool as soon as its node's backward has run, as PyTorch frees the
// tensors autograd saved: a training step's peak then falls as backward
// proceeds instead of holding every activation until Release. The graph's
// tensors (the loss included) cannot be read after Backward: read what you
// need before, as a training loop reads its losses.
func (e *Engine) SetFreeGraph(on bool) { e.freeGraph = on }

// freeScratch returns the buffer of a scratch tensor that owns one to the
// pool, blanking its scratch entry rather than removing it so Marks keep
// their positions. Backward frees in roughly reverse allocation order, so
// the search starts where the last one was found, then at the end.
func (e *Engine) freeScratch(t *Tensor) {
	if !t.owner || t.persistent || t.buf == nil {
		return
	}
	find := func(from int) bool {
		for i := min(from, len(e.scratch)-1); i >= 0; i-- {
			if e.scratch[i] == t.buf {
				e.scratch[i] = nil
				e.put(t.buf)
				t.buf, t.owner = nil, false
				e.freeHint = i
				return true
			}
		}
		return false
	}
	if !find(e.freeHint) {
		find(len(e.scratch) - 1)
	}
}

// ReleaseAll is Release from the very first scratch allocation.
func (e *Engine) ReleaseAll() { e.Release(Mark{}) }

// PoolStats reports the number of pooled free buffers (float and index) and
// their total elements (for tests and memory diagnostics).
func (e *Engine) PoolStats() (buffers, elements int) {
	for _, bs := range e.pool {
		buffers += len(bs)
	}
	for _, bs := range e.idxPool {
		buffers += len(bs)
	}
	for _, bs := range e.idle {
		buffers += len(bs)
	}
	for _, bs := range e.idleIdx {
		buffers += len(bs)
	}
	return buffers, e.pooled
}

// get takes a buffer of n elements from the pool or the device. The caller
// owns it: it must end up in scratch, in a persistent tensor, or back in put.
// Buffers come in size classes, so tensors whose sizes vary from step to
// step (images of different shapes) still reuse each other's memory; a
// request smaller than its class gets a view of the class buffer.
func (e *Engine) get(n int) Buffer {
	c := sizeClass(n)
	base := e.takePooled(c)
	if base == nil {
		base = e.dev.Alloc(c)
	}
	if base.Len() == n {
		return base
	}
	v := e.dev.View(base, 0, n)
	e.views[v] = base
	return v
}

// takePooled pops a free buffer of class c or of one of the next few
// classes (up to about 50% larger), so a step whose tensors shrink a little
// reuses the previous step's memory instead of allocating.
func (e *Engine) takePooled(c int) Buffer {
	for range 8 {
		if b, ok := pop(e.pool, c); ok {
			e.pooled -= c
			return b
		}
		if b, ok := pop(e.idle, c); ok {
			e.pooled -= c
			return b
		}
		c = sizeClass(c + 1)
	}
	return nil
}

// pop removes and returns the last free buffer of key k.
func pop[B any](free map[int][]B, k int) (b B, ok bool) {
	list := free[k]
	if len(list) == 0 {
		return b, false
	}
	b = list[len(list)-1]
	var zero B
	list[len(list)-1] = zero
	free[k] = list[:len(list)-1]
	return b, true
}

// put returns a buffer from get to the pool, or to the device when the pool
// is over its limit. Other buffers are ignored.
func (e *Engine) put(b Buffer) {
	if b == nil {
		return
	}
	if base, ok := e.views[b]; ok {
		delete(e.views, b)
		b = base
	}
	c := b.Len()
	if sizeClass(c) != c {
		return
	}
	if e.limit > 0 && e.pooled+c > e.limit {
		e.dev.Free(b)
		return
	}
	e.pool[c] = append(e.pool[c], b)
	e.pooled += c
}

// putIndex pools an index buffer by its exact length (index buffers have no
// views), within the same limit.
func (e *Engine) putIndex(b IndexBuffer) {
	if e.limit > 0 && e.pooled+b.Len() > e.limit {
		e.dev.FreeIndex(b)
		return
	}
	e.idxPool[b.Len()] = append(e.idxPool[b.Len()], b)
	e.pooled += b.Len()
}

// sizeClass rounds n up to one of 16 steps per power of two (at most 6.25%
// waste); classes are fixed points: sizeClass(sizeClass(n)) == sizeClass(n).
func sizeClass(n int) int {
	if n <= 16 {
		return n
	}
	step := 1 << max(bits.Len(uint(n-1))-5, 0) // octave (2^(b-1), 2^b] in 16 steps
	return (n + step - 1) &^ (step - 1)
}

// SetPoolLimit caps the elements the pool keeps for reuse (0: no cap);
// buffers released beyond it go back to the device. A cap bounds memory when
// tensor sizes keep changing; without one the pool holds the largest working
// set seen per size class.
func (e *Engine) SetPoolLimit(elements int) { e.limit = elements }

// Trim frees every pooled buffer on the device: the first TrimIdle frees
// the idle buffers and marks the rest idle, the second frees those.
func (e *Engine) Trim() {
	e.TrimIdle()
	e.TrimIdle()
}

// TrimIdle frees the pooled buffers that no allocation took since the
// previous TrimIdle. Called once per training step or inference batch, it
// keeps what one step reuses and drops what it does not: without it, steps
// whose tensor sizes vary (RoIs per image) leave the pool holding buffers
// of every size class any step needed, most of them idle.
func (e *Engine) TrimIdle() {
	for c, free := range e.idle {
		for _, b := range free {
			e.dev.Free(b)
			e.pooled -= c
		}
		delete(e.idle, c)
	}
	for n, free := range e.idleIdx {
		for _, b := range free {
			e.dev.FreeIndex(b)
			e.pooled -= n
		}
		delete(e.idleIdx, n)
	}
	e.idle, e.pool = e.pool, e.idle
	e.idleIdx, e.idxPool = e.idxPool, e.idleIdx
}

// alloc returns a scratch buffer of n elements, freed by Release.
func (e *Engine) alloc(n int) Buffer {
	b := e.get(n)
	e.scratch = append(e.scratch, b)
	return b
}

// allocIndex returns a scratch index buffer of n elements.
func (e *Engine) allocIndex(n int) IndexBuffer {
	b, ok := pop(e.idxPool, n)
	if !ok {
		b, ok = pop(e.idleIdx, n)
	}
	if ok {
		e.pooled -= n
	} else {
		b = e.dev.AllocIndex(n)
	}
	e.scratchIdx = append(e.scratchIdx, b)
	return b
}

// checkEngine panics when tensors from different engines meet in one op.
func (e *Engine) checkEngine(ts ...*Tensor) {
	for _, t := range ts {
		if t != nil && t.eng != e {
			Panicf("tensor: tensor of shape %v belongs to another engine", t.shape)
		}
	}
}
