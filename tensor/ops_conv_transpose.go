package tensor

// ConvTransposeOptions are conv_transpose2d's hyper-parameters as (height,
// width) pairs: those of the convolution it is the adjoint of, plus
// OutputPadding, the rows and columns added at the bottom and right to
// pick one of the output sizes that convolution maps to the input size
// (each must be below its stride or its dilation, as PyTorch requires).
type ConvTransposeOptions struct {
	ConvOptions
	OutputPadding [2]int
}

// ConvTranspose2d is PyTorch's conv_transpose2d (groups=1): x [N,Cin,H,W]
// with weight [Cin,Cout,KH,KW] and bias [Cout] when not nil gives
// [N,Cout,OH,OW], OH = (H−1)·StrideH − 2·PadH + DilationH·(KH−1) +
// OutputPadding + 1 (OW likewise).
//
// It is the adjoint of Conv2d with the same options, so it runs on the
// convolution's own paths and needs no kernel of its own: its forward pass
// is that convolution's input gradient (with weight as [Cout'=Cin, C'=Cout,
// KH, KW]), its input gradient is that convolution's forward pass, and its
// weight gradient is that convolution's weight gradient with x as the
// output gradient. A device with a convolution library (ConvDevice) runs
// all three. Under the engine's autocast it computes in low precision (see
// Autocast).
func ConvTranspose2d(x, weight, bias *Tensor, opt ConvTransposeOptions) *Tensor {
	return lowPrecision(x.eng, func(in []*Tensor) *Tensor { return convTranspose2d(in[0], in[1], in[2], opt) }, x, weight, bias)
}

func convTranspose2d(x, weight, bias *Tensor, opt ConvTransposeOptions) *Tensor {
	e := x.eng
	e.checkEngine(weight, bias)
	g := convTransposeGeom(x, weight, opt)
	n, cin, cout := x.shape[0], x.shape[1], weight.shape[1]
	y := e.newLike([]int{n, cout, g.H, g.W})
	convGrads(e, nil, weight.buf, g, n, cin, x.buf, y.buf, nil)
	if bias != nil {
		e.dev.ChannelAffine(y.buf, n, cout, g.H*g.W, nil, bias.buf, y.buf)
	}
	record(y, []*Tensor{x, weight, bias}, func(dy Buffer) []Buffer {
		var dx, dw, db Buffer
		if wants(bias) {
			db = e.get(cout)
			e.dev.ChannelAffineBackward(nil, dy, n, cout, g.H*g.W, nil, nil, nil, db)
		}
		if wants(x) {
			dx = e.get(x.Len())
			convForward(e, dy, weight.buf, g, n, cin, dx)
		}
		if wants(weight) {
			dw = e.get(weight.Len())
			convGrads(e, dy, nil, g, n, cin, x.buf, nil, dw)
		}
		return []Buffer{dx, dw, db}
	})
	return y
}

// convTransposeGeom is the geometry of the convolution ConvTranspose2d is
// the adjoint of: its input is the transposed convolution's output.
func convTransposeGeom(x, w *Tensor, opt ConvTransposeOptions) ConvGeom {
	if len(x.shape) != 4 || len(w.shape) != 4 || x.shape[1] != w.shape[0] {
		Panicf("tensor: conv_transpose2d input %v with weight %v", x.shape, w.shape)
	}
	one := func(v int) int { return max(v, 1) }
	g := ConvGeom{
		C:  w.shape[1],
		KH: w.shape[2], KW: w.shape[3],
		StrideH: one(opt.Stride[0]), StrideW: one(opt.Stride[1]),
		PadH: opt.Padding[0], PadW: opt.Padding[1],
		DilationH: one(opt.Dilation[0]), DilationW: one(opt.Dilation[1]),
	}
	op := opt.OutputPadding
	if op[0] < 0 || op[1] < 0 || op[0] >= max(g.StrideH, g.DilationH) || op[1] >= max(g.StrideW, g.DilationW) {
		Panicf("tensor: conv_transpose2d output padding %v with stride %v and dilation %v", op, opt.Stride, opt.Dilation)
	}
	g.H = (x.shape[2]-1)*g.StrideH - 2*g.PadH + g.DilationH*(g.KH-1) + op[0] + 1
	g.W = (x.shape[3]-1)*g.StrideW - 2*g.PadW + g.DilationW*(g.KW-1) + op[1] + 1
	if g.H <= 0 || g.W <= 0 || g.OutH() != x.shape[2] || g.OutW() != x.shape[3] {
		Panicf("tensor: conv_transpose2d output %dx%d for input %v, weight %v, options %+v", g.H, g.W, x.shape, w.shape, opt)
	}
	return g
}
