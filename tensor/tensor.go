package tensor

import (
	"fmt"
	"slices"
)

// Tensor is a contiguous row-major float32 array on an Engine's device, with
// an optional gradient and the graph node that produced it.
type Tensor struct {
	eng          *Engine
	shape        []int
	buf          Buffer
	persistent   bool
	requiresGrad bool
	grad         Buffer // accumulated gradient; meaningful only when gradSet
	gradSet      bool
	node         *node // nil for leaves and for results computed without grad
	owner        bool  // buf is a scratch buffer this tensor allocated (not a view)
	freed        bool  // its graph node was consumed by a backward pass
}

// Index is a contiguous int32 array on an Engine's device: labels, gather
// indices, sort results.
type Index struct {
	eng   *Engine
	shape []int
	buf   IndexBuffer
}

// Zeros returns a scratch tensor of zeros.
func (e *Engine) Zeros(shape ...int) *Tensor {
	t := e.Empty(shape...)
	e.dev.Fill(t.buf, 0)
	return t
}

// Full returns a scratch tensor filled with v.
func (e *Engine) Full(v float32, shape ...int) *Tensor {
	t := e.Empty(shape...)
	e.dev.Fill(t.buf, v)
	return t
}

// Empty returns a scratch tensor with undefined contents.
func (e *Engine) Empty(shape ...int) *Tensor {
	checkShape(shape)
	return &Tensor{eng: e, shape: slices.Clone(shape), buf: e.alloc(numel(shape)), owner: true}
}

// FromData returns a scratch tensor holding a copy of data.
func (e *Engine) FromData(data []float32, shape ...int) *Tensor {
	checkShape(shape)
	if len(data) != numel(shape) {
		Panicf("tensor: %d values for shape %v", len(data), shape)
	}
	t := e.Empty(shape...)
	e.dev.Upload(t.buf, data)
	return t
}

// NewPersistent returns a zero tensor that Release never frees: parameters,
// running statistics, optimizer state.
func (e *Engine) NewPersistent(shape ...int) *Tensor {
	checkShape(shape)
	b := e.dev.Alloc(numel(shape))
	e.dev.Fill(b, 0)
	return &Tensor{eng: e, shape: slices.Clone(shape), buf: b, persistent: true}
}

// NewIndex returns a scratch index tensor holding a copy of data.
func (e *Engine) NewIndex(data []int32, shape ...int) *Index {
	checkShape(shape)
	if len(data) != numel(shape) {
		Panicf("tensor: %d indices for shape %v", len(data), shape)
	}
	ix := &Index{eng: e, shape: slices.Clone(shape), buf: e.allocIndex(len(data))}
	e.dev.UploadIndex(ix.buf, data)
	return ix
}

func checkShape(shape []int) {
	for _, s := range shape {
		if s < 0 {
			Panicf("tensor: negative dimension in shape %v", shape)
		}
	}
}

// Engine returns the tensor's engine.
func (t *Tensor) Engine() *Engine { return t.eng }

// Shape returns a copy of the shape.
func (t *Tensor) Shape() []int { return slices.Clone(t.shape) }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Len is the number of elements.
func (t *Tensor) Len() int { return numel(t.shape) }

// Buffer returns the device buffer (for backends and kernels).
func (t *Tensor) Buffer() Buffer { return t.buf }

// Data copies the values to a new host slice.
func (t *Tensor) Data() []float32 {
	if t.buf == nil {
		Panicf("tensor: Data of a freed tensor of shape %v (Engine.Free, or Backward with SetFreeGraph)", t.shape)
	}
	out := make([]float32, t.Len())
	t.eng.dev.Download(out, t.buf)
	return out
}

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if t.Len() != 1 {
		Panicf("tensor: Item of shape %v", t.shape)
	}
	return t.Data()[0]
}

// CopyFrom uploads host data into t (used to load parameters).
func (t *Tensor) CopyFrom(data []float32) {
	if len(data) != t.Len() {
		Panicf("tensor: copy %d values into shape %v", len(data), t.shape)
	}
	t.eng.dev.Upload(t.buf, data)
}

// Assign copies src's values into t in place (same element count), outside
// the graph; optimizers and running statistics use it.
func (t *Tensor) Assign(src *Tensor) {
	if src.Len() != t.Len() {
		Panicf("tensor: assign shape %v into %v", src.shape, t.shape)
	}
	t.eng.dev.Copy(t.buf, src.buf)
}

// Persistent reports whether Release leaves the tensor alone.
func (t *Tensor) Persistent() bool { return t.persistent }

// RequiresGrad reports whether Backward computes a gradient for t.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// SetRequiresGrad marks a leaf tensor as needing a gradient (or frozen).
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	if t.node != nil {
		Panicf("tensor: SetRequiresGrad on a non-leaf tensor")
	}
	t.requiresGrad = on
	return t
}

// Grad returns the accumulated gradient as a tensor sharing its buffer, or
// nil when none has been computed since the last ZeroGrad. The buffer is
// recycled by the next backward pass after a ZeroGrad: copy it (Data) to keep it.
func (t *Tensor) Grad() *Tensor {
	if !t.gradSet {
		return nil
	}
	return &Tensor{eng: t.eng, shape: t.shape, buf: t.grad, persistent: t.persistent}
}

// ZeroGrad forgets the gradient (PyTorch's zero_grad(set_to_none=True)) but
// keeps a persistent tensor's buffer for the next accumulation.
func (t *Tensor) ZeroGrad() { t.gradSet = false }

// Detach returns a tensor sharing t's buffer that is outside the graph.
func (t *Tensor) Detach() *Tensor {
	return &Tensor{eng: t.eng, shape: t.shape, buf: t.buf, persistent: t.persistent}
}

// String shows the shape, e.g. "Tensor[2 3 4]".
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.shape) }

// Shape returns a copy of the index tensor's shape.
func (ix *Index) Shape() []int { return slices.Clone(ix.shape) }

// Len is the number of indices.
func (ix *Index) Len() int { return numel(ix.shape) }

// Buffer returns the device index buffer.
func (ix *Index) Buffer() IndexBuffer { return ix.buf }

// Data copies the indices to a new host slice.
func (ix *Index) Data() []int32 {
	out := make([]int32, ix.Len())
	ix.eng.dev.DownloadIndex(out, ix.buf)
	return out
}
