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

// back uploads the host copies of the outputs, staged: the host does not
// wait for the copies.
func (h *hostCall) back(outs ...tensor.Buffer) {
	for _, o := range outs {
		gb := buf(o)
		if gb == nil || gb.n == 0 {
			continue
		}
		must(h.d.g.StageFloat32(gb.ptr, tensor.CPUData(h.f(o))))
	}
}

// backIndex uploads index outputs.
func (h *hostCall) backIndex(outs ...tensor.IndexBuffer) {
	for _, o := range outs {
		if o == nil || o.Len() == 0 {
			continue
		}
		must(h.d.g.StageInt32(iptr(o), tensor.CPUIndexData(h.i(o))))
	}
}

// The operators below have no CUDA kernel yet and always run on the host.
// Those in layout.go, index.go and pool.go take the host path only in a
// build whose PTX lacks their kernel module.

// SortRows implements tensor.Device on the host.
func (d *Device) SortRows(x tensor.Buffer, rows, cols, k int, descending bool, idx tensor.IndexBuffer) {
	h := d.host("SortRows")
	d.cpu.SortRows(h.f(x), rows, cols, k, descending, h.i(idx))
	h.backIndex(idx)
}
