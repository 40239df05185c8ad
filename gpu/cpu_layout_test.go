package gpu

import "math"

// CPU twins of gpu/kernels/layout.cu: the loops of tensor.CPU's
// StridedCopy, BroadcastBinary and ReduceSum over the unmerged shape.

// stridedOffsetRef maps the flat row-major index i of shape to an element
// offset with strides.
func stridedOffsetRef(shape, strides []int, i int) int {
	off := 0
	for k := len(shape) - 1; k >= 0; k-- {
		off += (i % shape[k]) * strides[k]
		i /= shape[k]
	}
	return off
}

func stridedCopyRef(shape []int, dst []float32, dstStrides []int, src []float32, srcStrides []int, accumulate bool) {
	for i := range numel(shape) {
		so, do := stridedOffsetRef(shape, srcStrides, i), stridedOffsetRef(shape, dstStrides, i)
		if accumulate {
			dst[do] += src[so]
		} else {
			dst[do] = src[so]
		}
	}
}

// binaryScalarRef is tensor.CPU's scalar binary op (BCE in float64 as
// there).
func binaryScalarRef(op BinaryOp, a, b float32) float32 {
	switch op {
	case BinaryAdd:
		return a + b
	case BinarySub:
		return a - b
	case BinaryMul:
		return a * b
	case BinaryDiv:
		return a / b
	case BinaryBCEWithLogits:
		return max(a, 0) - a*b + float32(math.Log1p(math.Exp(-math.Abs(float64(a)))))
	}
	return float32(math.NaN())
}

func broadcastBinaryRef(op BinaryOp, shape []int, y, a []float32, aStrides []int, b []float32, bStrides []int) {
	for i := range numel(shape) {
		y[i] = binaryScalarRef(op, a[stridedOffsetRef(shape, aStrides, i)], b[stridedOffsetRef(shape, bStrides, i)])
	}
}

func reduceSumRef(y, x []float32, outer, mid, inner int) {
	for o := range outer {
		for i := range inner {
			var s float64
			for m := range mid {
				s += float64(x[(o*mid+m)*inner+i])
			}
			y[o*inner+i] = float32(s)
		}
	}
}
