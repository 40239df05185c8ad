package tensor

import "slices"

// Sum adds every element into a 0-d tensor (shape []).
func Sum(x *Tensor) *Tensor {
	e := x.eng
	y := e.newLike(nil)
	e.dev.ReduceSum(x.buf, 1, x.Len(), 1, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.StridedCopy([]int{x.Len()}, dy, []int{0}, dx, []int{1}, false)
		return []Buffer{dx}
	})
	return y
}

// Mean is Sum divided by the number of elements.
func Mean(x *Tensor) *Tensor { return Scale(Sum(x), 1/float32(max(x.Len(), 1))) }

// SumAxis sums over one axis, removing it (keepDim keeps it as size 1).
func SumAxis(x *Tensor, axis int, keepDim bool) *Tensor {
	e := x.eng
	axis = normAxis(axis, len(x.shape))
	outer, mid, inner := numel(x.shape[:axis]), x.shape[axis], numel(x.shape[axis+1:])
	shape := slices.Clone(x.shape)
	if keepDim {
		shape[axis] = 1
	} else {
		shape = slices.Delete(shape, axis, axis+1)
	}
	y := e.newLike(shape)
	e.dev.ReduceSum(x.buf, outer, mid, inner, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.StridedCopy([]int{outer, mid, inner}, dy, []int{inner, 0, 1}, dx, []int{mid * inner, inner, 1}, false)
		return []Buffer{dx}
	})
	return y
}

// MeanAxis averages over one axis.
func MeanAxis(x *Tensor, axis int, keepDim bool) *Tensor {
	return Scale(SumAxis(x, axis, keepDim), 1/float32(max(x.Dim(axis), 1)))
}
