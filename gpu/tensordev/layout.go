package tensordev

import (
	"errors"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// The layout operators run gpu/kernels/layout.cu when this build has its
// PTX (gpu.Device.HasModule), and tensor.CPU's kernels on host copies
// otherwise: a binary whose embedded PTX predates the module still works.
// Shapes that do not merge into gpu.MaxLayoutDims dimensions also take the
// host path, counted under their own name.

// numel is the product of shape (1 for a scalar).
func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// checkSpan panics unless every element that strides reach over shape lies
// in a buffer of n elements (tensor.CPU would index out of range; a kernel
// would read or write foreign memory).
func checkSpan(what string, shape, strides []int, n int) {
	if len(strides) != len(shape) {
		tensor.Panicf("tensordev: %s: %d strides for shape %v", what, len(strides), shape)
	}
	if numel(shape) == 0 {
		return
	}
	lo, hi := 0, 0
	for k, s := range shape {
		if st := (s - 1) * strides[k]; st < 0 {
			lo += st
		} else {
			hi += st
		}
	}
	if lo < 0 || hi >= n {
		tensor.Panicf("tensordev: %s: shape %v with strides %v reaches elements [%d, %d] of a %d-element buffer", what, shape, strides, lo, hi, n)
	}
}

// BroadcastBinary implements tensor.Device.
func (d *Device) BroadcastBinary(op tensor.BinaryOp, shape []int, a tensor.Buffer, aStrides []int, b tensor.Buffer, bStrides []int, y tensor.Buffer) {
	checkLen("broadcast binary output", numel(shape), y.Len())
	checkSpan("broadcast binary a", shape, aStrides, a.Len())
	checkSpan("broadcast binary b", shape, bStrides, b.Len())
	name := "BroadcastBinary"
	if d.g.HasModule(gpu.ModuleLayout) {
		err := d.g.BroadcastBinary(gpu.BinaryOp(op), shape, ptr(y), ptr(a), aStrides, ptr(b), bStrides)
		if !errors.Is(err, gpu.ErrTooManyDims) {
			must(err)
			return
		}
		name = "BroadcastBinary (too many dims)"
	}
	h := d.host(name)
	d.cpu.BroadcastBinary(op, shape, h.f(a), aStrides, h.f(b), bStrides, h.f(y))
	h.back(y)
}

// StridedCopy implements tensor.Device.
func (d *Device) StridedCopy(shape []int, src tensor.Buffer, srcStrides []int, dst tensor.Buffer, dstStrides []int, accumulate bool) {
	checkSpan("strided copy source", shape, srcStrides, src.Len())
	checkSpan("strided copy destination", shape, dstStrides, dst.Len())
	name := "StridedCopy"
	if d.g.HasModule(gpu.ModuleLayout) {
		err := d.g.StridedCopy(shape, ptr(dst), dstStrides, ptr(src), srcStrides, accumulate)
		if !errors.Is(err, gpu.ErrTooManyDims) {
			must(err)
			return
		}
		name = "StridedCopy (too many dims)"
	}
	h := d.host(name)
	d.cpu.StridedCopy(shape, h.f(src), srcStrides, h.f(dst), dstStrides, accumulate)
	h.back(dst)
}

// ReduceSum implements tensor.Device.
func (d *Device) ReduceSum(x tensor.Buffer, outer, mid, inner int, y tensor.Buffer) {
	checkLen("reduce sum input", outer*mid*inner, x.Len())
	checkLen("reduce sum output", outer*inner, y.Len())
	if d.g.HasModule(gpu.ModuleLayout) {
		must(d.g.ReduceSum(ptr(y), ptr(x), outer, mid, inner))
		return
	}
	h := d.host("ReduceSum")
	d.cpu.ReduceSum(h.f(x), outer, mid, inner, h.f(y))
	h.back(y)
}
