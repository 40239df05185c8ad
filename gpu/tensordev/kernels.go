package tensordev

import (
	"errors"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// The operators that run on the GPU.

// Gemm implements tensor.Device with cuBLAS; without cuBLAS it falls back
// to the host.
func (d *Device) Gemm(transA, transB bool, m, n, k int, alpha float32, a tensor.Buffer, lda int, b tensor.Buffer, ldb int, beta float32, c tensor.Buffer, ldc int) {
	err := d.g.Sgemm(transA, transB, m, n, k, alpha, ptr(a), lda, ptr(b), ldb, beta, ptr(c), ldc)
	var le *gpu.LibraryError
	if errors.As(err, &le) {
		h := d.host("Gemm (no cuBLAS)")
		d.cpu.Gemm(transA, transB, m, n, k, alpha, h.f(a), lda, h.f(b), ldb, beta, h.f(c), ldc)
		h.back(c)
		return
	}
	must(err)
}

// Axpby implements tensor.Device.
func (d *Device) Axpby(alpha float32, x tensor.Buffer, beta float32, y tensor.Buffer) {
	checkLen("axpby", y.Len(), x.Len())
	must(d.g.Axpby(alpha, ptr(x), beta, ptr(y), y.Len()))
}

// SumSquares implements tensor.Device (float32 partial sums on the GPU,
// summed deterministically; the interface's float64 is the return type).
func (d *Device) SumSquares(x tensor.Buffer) float64 {
	v, err := d.g.SumSq(ptr(x), x.Len())
	must(err)
	return float64(v)
}

var _ tensor.SquareSummer = (*Device)(nil)

// SumSquaresEach implements tensor.SquareSummer: the same reduction
// kernels as SumSquares, into one device array read back once.
func (d *Device) SumSquaresEach(bufs []tensor.Buffer) []float64 {
	if len(bufs) == 0 {
		return nil
	}
	sums, err := d.g.Alloc(4 * len(bufs))
	must(err)
	defer func() { must(d.g.Free(sums)) }()
	for i, b := range bufs {
		must(d.g.SumSqInto(sums+gpu.DevPtr(4*i), ptr(b), b.Len()))
	}
	host := make([]float32, len(bufs))
	must(d.g.ReadFloat32(host, sums))
	out := make([]float64, len(bufs))
	for i, v := range host {
		out[i] = float64(v)
	}
	return out
}

// Unary implements tensor.Device.
func (d *Device) Unary(op tensor.UnaryOp, p float32, x, y tensor.Buffer) {
	checkLen("unary", x.Len(), y.Len())
	must(d.g.Unary(gpu.UnaryOp(op), p, ptr(y), ptr(x), x.Len()))
}

// UnaryBackward implements tensor.Device.
func (d *Device) UnaryBackward(op tensor.UnaryOp, p float32, x, y, dy, dx tensor.Buffer) {
	checkLen("unary backward", dy.Len(), dx.Len())
	must(d.g.UnaryBwd(gpu.UnaryOp(op), p, ptr(dx), ptr(x), ptr(y), ptr(dy), dy.Len()))
}

// Binary implements tensor.Device.
func (d *Device) Binary(op tensor.BinaryOp, a, b, y tensor.Buffer) {
	checkLen("binary", a.Len(), b.Len())
	checkLen("binary", a.Len(), y.Len())
	must(d.g.Binary(gpu.BinaryOp(op), ptr(y), ptr(a), ptr(b), a.Len()))
}

// BinaryBackward implements tensor.Device.
func (d *Device) BinaryBackward(op tensor.BinaryOp, a, b, dy, da, db tensor.Buffer) {
	if op == tensor.BinaryBCEWithLogits && db != nil {
		tensor.Panicf("tensordev: BCEWithLogits has no target gradient")
	}
	must(d.g.BinaryBwd(gpu.BinaryOp(op), ptr(da), ptr(db), ptr(a), ptr(b), ptr(dy), dy.Len()))
}

func convGeom(g tensor.ConvGeom) gpu.ConvGeom {
	return gpu.ConvGeom{C: g.C, H: g.H, W: g.W, KH: g.KH, KW: g.KW, PadH: g.PadH, PadW: g.PadW,
		StrideH: g.StrideH, StrideW: g.StrideW, DilH: g.DilationH, DilW: g.DilationW}
}

// Im2col implements tensor.Device.
func (d *Device) Im2col(x tensor.Buffer, g tensor.ConvGeom, col tensor.Buffer) {
	checkLen("im2col input", g.C*g.H*g.W, x.Len())
	checkLen("im2col columns", g.ColRows()*g.ColCols(), col.Len())
	must(d.g.Im2col(ptr(col), ptr(x), convGeom(g)))
}

// Col2im implements tensor.Device.
func (d *Device) Col2im(col tensor.Buffer, g tensor.ConvGeom, x tensor.Buffer) {
	checkLen("col2im image", g.C*g.H*g.W, x.Len())
	checkLen("col2im columns", g.ColRows()*g.ColCols(), col.Len())
	must(d.g.Col2im(ptr(x), ptr(col), convGeom(g)))
}

// ChannelMeanVar implements tensor.Device.
func (d *Device) ChannelMeanVar(x tensor.Buffer, n, c, hw int, mean, variance tensor.Buffer) {
	checkLen("channel mean/var", n*c*hw, x.Len())
	must(d.g.ChannelMeanVar(ptr(mean), ptr(variance), ptr(x), n, c, hw))
}

// ChannelAffine implements tensor.Device.
func (d *Device) ChannelAffine(x tensor.Buffer, n, c, hw int, scale, shift tensor.Buffer, y tensor.Buffer) {
	checkLen("channel affine", n*c*hw, x.Len())
	checkLen("channel affine", n*c*hw, y.Len())
	must(d.g.ChannelAffine(ptr(y), ptr(x), ptr(scale), ptr(shift), n, c, hw))
}

// ChannelAffineBackward implements tensor.Device.
func (d *Device) ChannelAffineBackward(x, dy tensor.Buffer, n, c, hw int, scale tensor.Buffer, dx, dscale, dshift tensor.Buffer) {
	checkLen("channel affine backward", n*c*hw, dy.Len())
	must(d.g.ChannelAffineBwd(ptr(dx), ptr(dscale), ptr(dshift), ptr(x), ptr(dy), ptr(scale), n, c, hw))
}

// BatchNormBackward implements tensor.Device.
func (d *Device) BatchNormBackward(x, dy tensor.Buffer, n, c, hw int, mean, invstd, weight tensor.Buffer, dx, dweight, dbias tensor.Buffer) {
	checkLen("batch norm backward", n*c*hw, dy.Len())
	if weight == nil {
		h := d.host("BatchNormBackward (no weight)")
		d.cpu.BatchNormBackward(h.f(x), h.f(dy), n, c, hw, h.f(mean), h.f(invstd), nil, h.f(dx), h.f(dweight), h.f(dbias))
		h.back(dx, dweight, dbias)
		return
	}
	must(d.g.BatchNormTrainBwd(ptr(dx), ptr(dweight), ptr(dbias), ptr(dy), ptr(x), ptr(weight), ptr(mean), ptr(invstd), n, c, hw))
}

func poolGeom(g tensor.PoolGeom) gpu.PoolGeom {
	return gpu.PoolGeom{NC: g.N * g.C, H: g.H, W: g.W, KH: g.KH, KW: g.KW, StrideH: g.StrideH, StrideW: g.StrideW, PadH: g.PadH, PadW: g.PadW}
}

// MaxPool2d implements tensor.Device.
func (d *Device) MaxPool2d(x tensor.Buffer, g tensor.PoolGeom, y tensor.Buffer, argmax tensor.IndexBuffer) {
	checkLen("max pool input", g.N*g.C*g.H*g.W, x.Len())
	checkLen("max pool output", g.N*g.C*g.OutH()*g.OutW(), y.Len())
	must(d.g.MaxPoolFwd(ptr(y), iptr(argmax), ptr(x), poolGeom(g)))
}

// MaxPool2dBackward implements tensor.Device.
func (d *Device) MaxPool2dBackward(dy tensor.Buffer, argmax tensor.IndexBuffer, g tensor.PoolGeom, dx tensor.Buffer) {
	checkLen("max pool backward", g.N*g.C*g.H*g.W, dx.Len())
	must(d.g.MaxPoolBwd(ptr(dx), ptr(dy), iptr(argmax), poolGeom(g)))
}

// UpsampleNearest implements tensor.Device.
func (d *Device) UpsampleNearest(x tensor.Buffer, nc, h, w, scale int, y tensor.Buffer) {
	checkLen("upsample output", nc*h*w*scale*scale, y.Len())
	must(d.g.UpsampleNearestFwd(ptr(y), ptr(x), nc, h, w, scale))
}

// UpsampleNearestBackward implements tensor.Device.
func (d *Device) UpsampleNearestBackward(dy tensor.Buffer, nc, h, w, scale int, dx tensor.Buffer) {
	checkLen("upsample backward", nc*h*w, dx.Len())
	must(d.g.UpsampleNearestBwd(ptr(dx), ptr(dy), nc, h, w, scale))
}

// SoftmaxCrossEntropy implements tensor.Device.
func (d *Device) SoftmaxCrossEntropy(logits tensor.Buffer, labels tensor.IndexBuffer, n, k int, ignoreIndex int32, loss, prob tensor.Buffer) {
	checkLen("softmax cross-entropy logits", n*k, logits.Len())
	must(d.g.SoftmaxCEFwd(ptr(loss), ptr(prob), ptr(logits), iptr(labels), 0, n, k, int(ignoreIndex)))
}

// SigmoidFocalLoss implements tensor.Device.
func (d *Device) SigmoidFocalLoss(logits tensor.Buffer, labels tensor.IndexBuffer, n, k int, gamma, alpha float32, loss tensor.Buffer) {
	checkLen("focal loss logits", n*k, logits.Len())
	checkLen("focal loss labels", n, labels.Len())
	checkLen("focal loss", n, loss.Len())
	must(d.g.SigmoidFocalFwd(ptr(loss), ptr(logits), iptr(labels), n, k, gamma, alpha))
}

// SigmoidFocalLossBackward implements tensor.Device.
func (d *Device) SigmoidFocalLossBackward(logits tensor.Buffer, labels tensor.IndexBuffer, dloss tensor.Buffer, n, k int, gamma, alpha float32, dlogits tensor.Buffer) {
	checkLen("focal loss backward logits", n*k, logits.Len())
	checkLen("focal loss backward labels", n, labels.Len())
	checkLen("focal loss backward dloss", n, dloss.Len())
	checkLen("focal loss backward", n*k, dlogits.Len())
	must(d.g.SigmoidFocalBwd(ptr(dlogits), ptr(logits), iptr(labels), ptr(dloss), n, k, gamma, alpha))
}

// SoftmaxCrossEntropyBackward implements tensor.Device: the per-row
// upstream gradient dloss is the kernel's row weight, with scale 1.
func (d *Device) SoftmaxCrossEntropyBackward(prob tensor.Buffer, labels tensor.IndexBuffer, dloss tensor.Buffer, n, k int, ignoreIndex int32, dlogits tensor.Buffer) {
	checkLen("softmax cross-entropy backward", n*k, dlogits.Len())
	must(d.g.SoftmaxCEBwd(ptr(dlogits), ptr(prob), iptr(labels), ptr(dloss), n, k, int(ignoreIndex), 1))
}
