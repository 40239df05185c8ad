package tensor

import (
	"slices"
)

// Reshape returns x with a new shape of the same size, sharing its buffer.
// One dimension may be −1 and is inferred.
func Reshape(x *Tensor, shape ...int) *Tensor {
	shape = inferShape(shape, x.Len())
	y := &Tensor{eng: x.eng, shape: shape, buf: x.buf}
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer { return []Buffer{dy} })
	return y
}

func inferShape(shape []int, n int) []int {
	shape = slices.Clone(shape)
	free, known := -1, 1
	for i, s := range shape {
		if s == -1 {
			if free >= 0 {
				Panicf("tensor: two inferred dimensions in %v", shape)
			}
			free = i
			continue
		}
		known *= s
	}
	if free >= 0 && known > 0 {
		shape[free] = n / known
	}
	if numel(shape) != n {
		Panicf("tensor: reshape of %d elements to %v", n, shape)
	}
	return shape
}

// Flatten reshapes x [N, ...] to [N, rest].
func Flatten(x *Tensor) *Tensor { return Reshape(x, x.shape[0], -1) }

// Permute reorders dimensions: output dimension i is input dimension perm[i].
func Permute(x *Tensor, perm ...int) *Tensor {
	e := x.eng
	if len(perm) != len(x.shape) {
		Panicf("tensor: permutation %v of shape %v", perm, x.shape)
	}
	in := contiguousStrides(x.shape)
	shape, src := make([]int, len(perm)), make([]int, len(perm))
	for i, p := range perm {
		shape[i], src[i] = x.shape[p], in[p]
	}
	y := e.newLike(shape)
	out := contiguousStrides(shape)
	e.dev.StridedCopy(shape, x.buf, src, y.buf, out, false)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.StridedCopy(shape, dy, out, dx, src, false)
		return []Buffer{dx}
	})
	return y
}

// Transpose swaps dimensions d0 and d1 (negative counts from the end).
func Transpose(x *Tensor, d0, d1 int) *Tensor {
	d0, d1 = normAxis(d0, len(x.shape)), normAxis(d1, len(x.shape))
	perm := make([]int, len(x.shape))
	for i := range perm {
		perm[i] = i
	}
	perm[d0], perm[d1] = d1, d0
	return Permute(x, perm...)
}

// Slice returns x[..., start:end, ...] along axis (a copy; negative axis
// counts from the end).
func Slice(x *Tensor, axis, start, end int) *Tensor {
	e := x.eng
	axis = normAxis(axis, len(x.shape))
	if start < 0 || end > x.shape[axis] || start > end {
		Panicf("tensor: slice [%d:%d] of dimension %d in %v", start, end, axis, x.shape)
	}
	shape := slices.Clone(x.shape)
	shape[axis] = end - start
	st := contiguousStrides(x.shape)
	off := start * st[axis]
	y := e.newLike(shape)
	out := contiguousStrides(shape)
	if y.Len() > 0 {
		e.dev.StridedCopy(shape, e.dev.View(x.buf, off, x.Len()-off), st, y.buf, out, false)
	}
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.Fill(dx, 0)
		if numel(shape) > 0 {
			e.dev.StridedCopy(shape, dy, out, e.dev.View(dx, off, x.Len()-off), st, false)
		}
		return []Buffer{dx}
	})
	return y
}

// Concat joins tensors along axis (negative counts from the end); all
// other dimensions must match.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		Panicf("tensor: concat of nothing")
	}
	axis = normAxis(axis, len(ts[0].shape))
	ts = slices.Clone(ts) // the backward closure keeps the list
	e := ts[0].eng
	e.checkEngine(ts...)
	shape := slices.Clone(ts[0].shape)
	shape[axis] = 0
	for _, t := range ts {
		for d := range shape {
			if d != axis && t.shape[d] != shape[d] {
				Panicf("tensor: concat shapes %v and %v on axis %d", ts[0].shape, t.shape, axis)
			}
		}
		shape[axis] += t.shape[axis]
	}
	y := e.newLike(shape)
	out := contiguousStrides(shape)
	offs := make([]int, len(ts))
	at := 0
	for i, t := range ts {
		offs[i] = at * out[axis]
		at += t.shape[axis]
		if t.Len() > 0 {
			e.dev.StridedCopy(t.shape, t.buf, contiguousStrides(t.shape), e.dev.View(y.buf, offs[i], y.Len()-offs[i]), out, false)
		}
	}
	record(y, ts, func(dy Buffer) []Buffer {
		grads := make([]Buffer, len(ts))
		for i, t := range ts {
			if !wants(t) {
				continue
			}
			g := e.get(t.Len())
			if t.Len() > 0 {
				e.dev.StridedCopy(t.shape, e.dev.View(dy, offs[i], y.Len()-offs[i]), out, g, contiguousStrides(t.shape), false)
			}
			grads[i] = g
		}
		return grads
	})
	return y
}

// normAxis maps a possibly negative axis into [0, rank), panicking outside.
func normAxis(axis, rank int) int {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		Panicf("tensor: axis %d of a rank-%d tensor", axis, rank)
	}
	return axis
}
