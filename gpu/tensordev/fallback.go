package tensordev

import (
	"github.com/detflow/detflow/tensor"
)

// hostCall runs one tensor.CPU kernel on host copies of GPU operands.
type hostCall struct {
	d    *Device
	bufs map[*buffer]tensor.Buffer
	idx  map[*indexBuffer]tensor.IndexBuffer
}

// host starts a fallback call of op and counts it. The device's queued work
// is waited for by the downloads.
func (d *Device) host(op string) *hostCall {
	d.mu.Lock()
	d.fallbacks[op]++
	d.mu.Unlock()
	return &hostCall{d: d, bufs: map[*buffer]tensor.Buffer{}, idx: map[*indexBuffer]tensor.IndexBuffer{}}
}

// f returns the host copy of a GPU buffer (downloaded once; nil stays nil).
// Every operand is downloaded, outputs too, because some kernels
// accumulate into their outputs.
func (h *hostCall) f(b tensor.Buffer) tensor.Buffer {
	gb := buf(b)
	if gb == nil {
		return nil
	}
	if hb, ok := h.bufs[gb]; ok {
		return hb
	}
	hb := h.d.cpu.Alloc(gb.n)
	if gb.n > 0 {
		must(h.d.g.ReadFloat32(tensor.CPUData(hb), gb.ptr))
	}
	h.bufs[gb] = hb
	return hb
}

// i is f for index buffers.
func (h *hostCall) i(b tensor.IndexBuffer) tensor.IndexBuffer {
	if b == nil {
		return nil
	}
	ib := b.(*indexBuffer)
	if hb, ok := h.idx[ib]; ok {
		return hb
	}
	hb := h.d.cpu.AllocIndex(ib.n)
	if ib.n > 0 {
		must(h.d.g.ReadInt32(tensor.CPUIndexData(hb), ib.ptr))
	}
	h.idx[ib] = hb
	return hb
}

// back uploads the host copies of the outputs.
func (h *hostCall) back(outs ...tensor.Buffer) {
	for _, o := range outs {
		gb := buf(o)
		if gb == nil || gb.n == 0 {
			continue
		}
		must(h.d.g.WriteFloat32(gb.ptr, tensor.CPUData(h.f(o))))
	}
}

// backIndex uploads index outputs.
func (h *hostCall) backIndex(outs ...tensor.IndexBuffer) {
	for _, o := range outs {
		if o == nil || o.Len() == 0 {
			continue
		}
		must(h.d.g.WriteInt32(iptr(o), tensor.CPUIndexData(h.i(o))))
	}
}

// The operators below have no CUDA kernel yet and run on the host.

// BroadcastBinary implements tensor.Device on the host.
func (d *Device) BroadcastBinary(op tensor.BinaryOp, shape []int, a tensor.Buffer, aStrides []int, b tensor.Buffer, bStrides []int, y tensor.Buffer) {
	h := d.host("BroadcastBinary")
	d.cpu.BroadcastBinary(op, shape, h.f(a), aStrides, h.f(b), bStrides, h.f(y))
	h.back(y)
}

// StridedCopy implements tensor.Device on the host.
func (d *Device) StridedCopy(shape []int, src tensor.Buffer, srcStrides []int, dst tensor.Buffer, dstStrides []int, accumulate bool) {
	h := d.host("StridedCopy")
	d.cpu.StridedCopy(shape, h.f(src), srcStrides, h.f(dst), dstStrides, accumulate)
	h.back(dst)
}

// ReduceSum implements tensor.Device on the host.
func (d *Device) ReduceSum(x tensor.Buffer, outer, mid, inner int, y tensor.Buffer) {
	h := d.host("ReduceSum")
	d.cpu.ReduceSum(h.f(x), outer, mid, inner, h.f(y))
	h.back(y)
}

// AvgPool2d implements tensor.Device on the host.
func (d *Device) AvgPool2d(x tensor.Buffer, g tensor.PoolGeom, y tensor.Buffer) {
	h := d.host("AvgPool2d")
	d.cpu.AvgPool2d(h.f(x), g, h.f(y))
	h.back(y)
}

// AvgPool2dBackward implements tensor.Device on the host.
func (d *Device) AvgPool2dBackward(dy tensor.Buffer, g tensor.PoolGeom, dx tensor.Buffer) {
	h := d.host("AvgPool2dBackward")
	d.cpu.AvgPool2dBackward(h.f(dy), g, h.f(dx))
	h.back(dx)
}

// AdaptiveAvgPool2d implements tensor.Device on the host.
func (d *Device) AdaptiveAvgPool2d(x tensor.Buffer, nc, hh, w, oh, ow int, y tensor.Buffer) {
	h := d.host("AdaptiveAvgPool2d")
	d.cpu.AdaptiveAvgPool2d(h.f(x), nc, hh, w, oh, ow, h.f(y))
	h.back(y)
}

// AdaptiveAvgPool2dBackward implements tensor.Device on the host.
func (d *Device) AdaptiveAvgPool2dBackward(dy tensor.Buffer, nc, hh, w, oh, ow int, dx tensor.Buffer) {
	h := d.host("AdaptiveAvgPool2dBackward")
	d.cpu.AdaptiveAvgPool2dBackward(h.f(dy), nc, hh, w, oh, ow, h.f(dx))
	h.back(dx)
}

// Softmax implements tensor.Device on the host.
func (d *Device) Softmax(x tensor.Buffer, rows, cols int, y tensor.Buffer) {
	h := d.host("Softmax")
	d.cpu.Softmax(h.f(x), rows, cols, h.f(y))
	h.back(y)
}

// SoftmaxBackward implements tensor.Device on the host.
func (d *Device) SoftmaxBackward(y, dy tensor.Buffer, rows, cols int, dx tensor.Buffer) {
	h := d.host("SoftmaxBackward")
	d.cpu.SoftmaxBackward(h.f(y), h.f(dy), rows, cols, h.f(dx))
	h.back(dx)
}

// IndexSelect implements tensor.Device on the host.
func (d *Device) IndexSelect(src tensor.Buffer, outer, dim, inner int, idx tensor.IndexBuffer, dst tensor.Buffer) {
	h := d.host("IndexSelect")
	d.cpu.IndexSelect(h.f(src), outer, dim, inner, h.i(idx), h.f(dst))
	h.back(dst)
}

// IndexAdd implements tensor.Device on the host.
func (d *Device) IndexAdd(src tensor.Buffer, outer, dim, inner int, idx tensor.IndexBuffer, dst tensor.Buffer) {
	h := d.host("IndexAdd")
	d.cpu.IndexAdd(h.f(src), outer, dim, inner, h.i(idx), h.f(dst))
	h.back(dst)
}

// GatherRows implements tensor.Device on the host.
func (d *Device) GatherRows(src tensor.Buffer, rows, cols int, idx tensor.IndexBuffer, k int, dst tensor.Buffer) {
	h := d.host("GatherRows")
	d.cpu.GatherRows(h.f(src), rows, cols, h.i(idx), k, h.f(dst))
	h.back(dst)
}

// ScatterAddRows implements tensor.Device on the host.
func (d *Device) ScatterAddRows(src tensor.Buffer, rows, cols int, idx tensor.IndexBuffer, k int, dst tensor.Buffer) {
	h := d.host("ScatterAddRows")
	d.cpu.ScatterAddRows(h.f(src), rows, cols, h.i(idx), k, h.f(dst))
	h.back(dst)
}

// SortRows implements tensor.Device on the host.
func (d *Device) SortRows(x tensor.Buffer, rows, cols, k int, descending bool, idx tensor.IndexBuffer) {
	h := d.host("SortRows")
	d.cpu.SortRows(h.f(x), rows, cols, k, descending, h.i(idx))
	h.backIndex(idx)
}
