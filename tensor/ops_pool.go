package tensor

func poolGeom(x *Tensor, k, stride, pad int) PoolGeom {
	if len(x.shape) != 4 {
		Panicf("tensor: pooling of shape %v", x.shape)
	}
	if stride <= 0 {
		stride = k
	}
	return PoolGeom{N: x.shape[0], C: x.shape[1], H: x.shape[2], W: x.shape[3],
		KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}
}

// MaxPool2d is PyTorch's max_pool2d with a square window (stride 0 means k).
func MaxPool2d(x *Tensor, k, stride, pad int) *Tensor {
	e := x.eng
	g := poolGeom(x, k, stride, pad)
	y := e.newLike([]int{g.N, g.C, g.OutH(), g.OutW()})
	arg := e.allocIndex(y.Len())
	e.dev.MaxPool2d(x.buf, g, y.buf, arg)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.MaxPool2dBackward(dy, arg, g, dx)
		return []Buffer{dx}
	})
	return y
}

// AvgPool2d is PyTorch's avg_pool2d (count_include_pad=True).
func AvgPool2d(x *Tensor, k, stride, pad int) *Tensor {
	e := x.eng
	g := poolGeom(x, k, stride, pad)
	y := e.newLike([]int{g.N, g.C, g.OutH(), g.OutW()})
	e.dev.AvgPool2d(x.buf, g, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.AvgPool2dBackward(dy, g, dx)
		return []Buffer{dx}
	})
	return y
}

// AdaptiveAvgPool2d averages x [N,C,H,W] to [N,C,OH,OW] with PyTorch's windows.
func AdaptiveAvgPool2d(x *Tensor, oh, ow int) *Tensor {
	e := x.eng
	nc, h, w := x.shape[0]*x.shape[1], x.shape[2], x.shape[3]
	y := e.newLike([]int{x.shape[0], x.shape[1], oh, ow})
	e.dev.AdaptiveAvgPool2d(x.buf, nc, h, w, oh, ow, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.AdaptiveAvgPool2dBackward(dy, nc, h, w, oh, ow, dx)
		return []Buffer{dx}
	})
	return y
}

// UpsampleNearest repeats pixels of x [N,C,H,W] scale times in each direction
// (PyTorch's interpolate(mode="nearest", scale_factor=scale)).
func UpsampleNearest(x *Tensor, scale int) *Tensor {
	e := x.eng
	nc, h, w := x.shape[0]*x.shape[1], x.shape[2], x.shape[3]
	y := e.newLike([]int{x.shape[0], x.shape[1], h * scale, w * scale})
	e.dev.UpsampleNearest(x.buf, nc, h, w, scale, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.UpsampleNearestBackward(dy, nc, h, w, scale, dx)
		return []Buffer{dx}
	})
	return y
}
