package tensordev

import (
	"errors"
	"log/slog"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// Convolutions go to cuDNN, a whole batch per call, when it is installed;
// otherwise, or for a shape cuDNN has no algorithm for, tensor.Conv2d
// composes them from the Im2col/Col2im kernels and cuBLAS.

var _ tensor.ConvDevice = (*Device)(nil)

// ConvForward implements tensor.ConvDevice.
func (d *Device) ConvForward(x, w tensor.Buffer, g tensor.ConvGeom, n, cout int, y tensor.Buffer) bool {
	checkLen("conv input", n*g.C*g.H*g.W, x.Len())
	checkLen("conv output", n*cout*g.OutH()*g.OutW(), y.Len())
	return d.dnnConv(d.g.ConvFwd(ptr(y), ptr(x), ptr(w), convGeom(g), n, cout))
}

// ConvBackwardData implements tensor.ConvDevice.
func (d *Device) ConvBackwardData(w, dy tensor.Buffer, g tensor.ConvGeom, n, cout int, dx tensor.Buffer) bool {
	checkLen("conv input gradient", n*g.C*g.H*g.W, dx.Len())
	return d.dnnConv(d.g.ConvBwdData(ptr(dx), ptr(w), ptr(dy), convGeom(g), n, cout))
}

// ConvBackwardFilter implements tensor.ConvDevice.
func (d *Device) ConvBackwardFilter(x, dy tensor.Buffer, g tensor.ConvGeom, n, cout int, dw tensor.Buffer) bool {
	checkLen("conv weight gradient", cout*g.C*g.KH*g.KW, dw.Len())
	return d.dnnConv(d.g.ConvBwdFilter(ptr(dw), ptr(x), ptr(dy), convGeom(g), n, cout))
}

// dnnConv turns a cuDNN call's error into ConvDevice's answer: false when
// cuDNN cannot run it (logged once for a missing library, once for the
// first shape without an algorithm), a device failure otherwise.
func (d *Device) dnnConv(err error) bool {
	var ue *gpu.DNNUnavailableError
	if !errors.As(err, &ue) {
		must(err)
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.convNoted == nil {
		d.convNoted = map[string]bool{}
	}
	var le *gpu.LibraryError
	key := "shape"
	if errors.As(err, &le) || errors.Is(err, gpu.ErrDNNOff) {
		key = "library"
	}
	if !d.convNoted[key] { // once: the first shape stands for the others
		slog.Info("tensordev: convolution by im2col and GEMM", "device", d.name, "why", err)
		d.convNoted[key] = true
	}
	d.convComposed++
	return false
}

// ConvComposed counts the convolutions cuDNN could not take.
func (d *Device) ConvComposed() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.convComposed
}

// ConvLibrary says what convolves on this device: the cuDNN version, or
// the composed path and why.
func (d *Device) ConvLibrary() string {
	dn, err := d.g.DNN()
	if err != nil {
		return "im2col + GEMM (" + err.Error() + ")"
	}
	return dn.String()
}

// SetConvTF32 says whether cuDNN convolutions may use TF32 tensor cores
// (see gpu.Device.SetConvTF32); train.precision sets it.
func (d *Device) SetConvTF32(on bool) error { return d.g.SetConvTF32(on) }
