package tensordev

import (
	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// Average pooling runs gpu/kernels/avgpool.cu when this build has its PTX,
// tensor.CPU's kernels on host copies otherwise.

// AvgPool2d implements tensor.Device.
func (d *Device) AvgPool2d(x tensor.Buffer, g tensor.PoolGeom, y tensor.Buffer) {
	checkLen("avg pool input", g.N*g.C*g.H*g.W, x.Len())
	checkLen("avg pool output", g.N*g.C*g.OutH()*g.OutW(), y.Len())
	if d.g.HasModule(gpu.ModuleAvgPool) {
		must(d.g.AvgPoolFwd(ptr(y), ptr(x), poolGeom(g)))
		return
	}
	h := d.host("AvgPool2d")
	d.cpu.AvgPool2d(h.f(x), g, h.f(y))
	h.back(y)
}

// AvgPool2dBackward implements tensor.Device.
func (d *Device) AvgPool2dBackward(dy tensor.Buffer, g tensor.PoolGeom, dx tensor.Buffer) {
	checkLen("avg pool backward", g.N*g.C*g.H*g.W, dx.Len())
	if d.g.HasModule(gpu.ModuleAvgPool) {
		must(d.g.AvgPoolBwd(ptr(dx), ptr(dy), poolGeom(g)))
		return
	}
	h := d.host("AvgPool2dBackward")
	d.cpu.AvgPool2dBackward(h.f(dy), g, h.f(dx))
	h.back(dx)
}

// AdaptiveAvgPool2d implements tensor.Device.
func (d *Device) AdaptiveAvgPool2d(x tensor.Buffer, nc, hh, w, oh, ow int, y tensor.Buffer) {
	checkLen("adaptive avg pool input", nc*hh*w, x.Len())
	checkLen("adaptive avg pool output", nc*oh*ow, y.Len())
	if d.g.HasModule(gpu.ModuleAvgPool) {
		must(d.g.AdaptiveAvgPoolFwd(ptr(y), ptr(x), nc, hh, w, oh, ow))
		return
	}
	h := d.host("AdaptiveAvgPool2d")
	d.cpu.AdaptiveAvgPool2d(h.f(x), nc, hh, w, oh, ow, h.f(y))
	h.back(y)
}

// AdaptiveAvgPool2dBackward implements tensor.Device.
func (d *Device) AdaptiveAvgPool2dBackward(dy tensor.Buffer, nc, hh, w, oh, ow int, dx tensor.Buffer) {
	checkLen("adaptive avg pool backward", nc*hh*w, dx.Len())
	if d.g.HasModule(gpu.ModuleAvgPool) {
		must(d.g.AdaptiveAvgPoolBwd(ptr(dx), ptr(dy), nc, hh, w, oh, ow))
		return
	}
	h := d.host("AdaptiveAvgPool2dBackward")
	d.cpu.AdaptiveAvgPool2dBackward(h.f(dy), nc, hh, w, oh, ow, h.f(dx))
	h.back(dx)
}
