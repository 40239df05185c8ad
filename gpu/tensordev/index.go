package tensordev

import (
	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// The index and softmax operators run gpu/kernels/index.cu and softmax.cu
// when this build has their PTX, tensor.CPU's kernels on host copies
// otherwise. On the GPU an index out of range cannot panic as tensor.CPU
// does: a gather writes NaN there and a scatter skips it. The scatters
// accumulate with atomicAdd, so the last bits of sums over repeated
// indices vary between runs.

// IndexSelect implements tensor.Device.
func (d *Device) IndexSelect(src tensor.Buffer, outer, dim, inner int, idx tensor.IndexBuffer, dst tensor.Buffer) {
	checkLen("index select source", outer*dim*inner, src.Len())
	checkLen("index select output", outer*idx.Len()*inner, dst.Len())
	if d.g.HasModule(gpu.ModuleIndex) {
		must(d.g.IndexSelect(ptr(dst), ptr(src), iptr(idx), outer, dim, inner, idx.Len()))
		return
	}
	h := d.host("IndexSelect")
	d.cpu.IndexSelect(h.f(src), outer, dim, inner, h.i(idx), h.f(dst))
	h.back(dst)
}

// IndexAdd implements tensor.Device.
func (d *Device) IndexAdd(src tensor.Buffer, outer, dim, inner int, idx tensor.IndexBuffer, dst tensor.Buffer) {
	checkLen("index add source", outer*idx.Len()*inner, src.Len())
	checkLen("index add output", outer*dim*inner, dst.Len())
	if d.g.HasModule(gpu.ModuleIndex) {
		must(d.g.IndexAdd(ptr(dst), ptr(src), iptr(idx), outer, dim, inner, idx.Len()))
		return
	}
	h := d.host("IndexAdd")
	d.cpu.IndexAdd(h.f(src), outer, dim, inner, h.i(idx), h.f(dst))
	h.back(dst)
}

// GatherRows implements tensor.Device.
func (d *Device) GatherRows(src tensor.Buffer, rows, cols int, idx tensor.IndexBuffer, k int, dst tensor.Buffer) {
	checkLen("gather rows source", rows*cols, src.Len())
	checkLen("gather rows index", rows*k, idx.Len())
	checkLen("gather rows output", rows*k, dst.Len())
	if d.g.HasModule(gpu.ModuleIndex) {
		must(d.g.GatherRows(ptr(dst), ptr(src), iptr(idx), rows, cols, k))
		return
	}
	h := d.host("GatherRows")
	d.cpu.GatherRows(h.f(src), rows, cols, h.i(idx), k, h.f(dst))
	h.back(dst)
}

// ScatterAddRows implements tensor.Device.
func (d *Device) ScatterAddRows(src tensor.Buffer, rows, cols int, idx tensor.IndexBuffer, k int, dst tensor.Buffer) {
	checkLen("scatter rows source", rows*k, src.Len())
	checkLen("scatter rows index", rows*k, idx.Len())
	checkLen("scatter rows output", rows*cols, dst.Len())
	if d.g.HasModule(gpu.ModuleIndex) {
		must(d.g.ScatterAddRows(ptr(dst), ptr(src), iptr(idx), rows, cols, k))
		return
	}
	h := d.host("ScatterAddRows")
	d.cpu.ScatterAddRows(h.f(src), rows, cols, h.i(idx), k, h.f(dst))
	h.back(dst)
}

// Softmax implements tensor.Device.
func (d *Device) Softmax(x tensor.Buffer, rows, cols int, y tensor.Buffer) {
	checkLen("softmax input", rows*cols, x.Len())
	checkLen("softmax output", rows*cols, y.Len())
	if d.g.HasModule(gpu.ModuleSoftmax) {
		must(d.g.SoftmaxRows(ptr(y), ptr(x), rows, cols))
		return
	}
	h := d.host("Softmax")
	d.cpu.Softmax(h.f(x), rows, cols, h.f(y))
	h.back(y)
}

// SoftmaxBackward implements tensor.Device.
func (d *Device) SoftmaxBackward(y, dy tensor.Buffer, rows, cols int, dx tensor.Buffer) {
	checkLen("softmax backward output", rows*cols, y.Len())
	checkLen("softmax backward gradient", rows*cols, dy.Len())
	checkLen("softmax backward input gradient", rows*cols, dx.Len())
	if d.g.HasModule(gpu.ModuleSoftmax) {
		must(d.g.SoftmaxRowsBwd(ptr(dx), ptr(y), ptr(dy), rows, cols))
		return
	}
	h := d.host("SoftmaxBackward")
	d.cpu.SoftmaxBackward(h.f(y), h.f(dy), rows, cols, h.f(dx))
	h.back(dx)
}
