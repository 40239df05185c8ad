package tensor

import (
	"slices"
)

// IndexSelect picks entries idx along axis (PyTorch's index_select).
func IndexSelect(x *Tensor, axis int, idx *Index) *Tensor {
	e := x.eng
	axis = normAxis(axis, len(x.shape))
	outer, dim, inner := numel(x.shape[:axis]), x.shape[axis], numel(x.shape[axis+1:])
	shape := slices.Clone(x.shape)
	shape[axis] = idx.Len()
	y := e.newLike(shape)
	e.dev.IndexSelect(x.buf, outer, dim, inner, idx.buf, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.Fill(dx, 0)
		e.dev.IndexAdd(dy, outer, dim, inner, idx.buf, dx)
		return []Buffer{dx}
	})
	return y
}

// Gather picks y[r, j] = x[r, idx[r, j]] for x [R,C] and idx [R,K]
// (PyTorch's gather along the last dimension).
func Gather(x *Tensor, idx *Index) *Tensor {
	e := x.eng
	if len(x.shape) != 2 || len(idx.shape) != 2 || idx.shape[0] != x.shape[0] {
		Panicf("tensor: gather of %v with index %v", x.shape, idx.shape)
	}
	rows, cols, k := x.shape[0], x.shape[1], idx.shape[1]
	y := e.newLike([]int{rows, k})
	e.dev.GatherRows(x.buf, rows, cols, idx.buf, k, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.Fill(dx, 0)
		e.dev.ScatterAddRows(dy, rows, cols, idx.buf, k, dx)
		return []Buffer{dx}
	})
	return y
}

// TopK returns the k largest (or smallest) values of each row of x [R,C] and
// their column indices [R,k], in order; ties keep ascending column order.
func TopK(x *Tensor, k int, largest bool) (*Tensor, *Index) {
	e := x.eng
	if len(x.shape) != 2 || k < 0 || k > x.shape[1] {
		Panicf("tensor: top-%d of %v", k, x.shape)
	}
	rows, cols := x.shape[0], x.shape[1]
	idx := &Index{eng: e, shape: []int{rows, k}, buf: e.allocIndex(rows * k)}
	e.dev.SortRows(x.buf, rows, cols, k, largest, idx.buf)
	return Gather(x, idx), idx
}

// Argsort returns, per row of x [R,C], the column order that sorts it
// (stable; NaNs last).
func Argsort(x *Tensor, descending bool) *Index {
	e := x.eng
	if len(x.shape) != 2 {
		Panicf("tensor: argsort of %v", x.shape)
	}
	rows, cols := x.shape[0], x.shape[1]
	idx := &Index{eng: e, shape: []int{rows, cols}, buf: e.allocIndex(rows * cols)}
	e.dev.SortRows(x.buf, rows, cols, cols, descending, idx.buf)
	return idx
}
