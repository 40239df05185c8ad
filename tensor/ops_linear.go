package tensor

// Linear computes x·weightᵀ + bias for x [N,Din], weight [Dout,Din] and
// bias [Dout] (nil for none), PyTorch's F.linear. Under the engine's
// autocast it computes in low precision (see Autocast).
func Linear(x, weight, bias *Tensor) *Tensor {
	return lowPrecision(x.eng, func(in []*Tensor) *Tensor { return linear(in[0], in[1], in[2]) }, x, weight, bias)
}

func linear(x, weight, bias *Tensor) *Tensor {
	e := x.eng
	e.checkEngine(weight, bias)
	if len(x.shape) != 2 || len(weight.shape) != 2 || x.shape[1] != weight.shape[1] {
		Panicf("tensor: linear input %v with weight %v", x.shape, weight.shape)
	}
	n, din, dout := x.shape[0], x.shape[1], weight.shape[0]
	y := e.newLike([]int{n, dout})
	e.dev.Gemm(false, true, n, dout, din, 1, x.buf, din, weight.buf, din, 0, y.buf, dout)
	if bias != nil {
		e.dev.ChannelAffine(y.buf, n, dout, 1, nil, bias.buf, y.buf)
	}
	record(y, []*Tensor{x, weight, bias}, func(dy Buffer) []Buffer {
		var dx, dw, db Buffer
		if wants(x) {
			dx = e.get(x.Len())
			e.dev.Gemm(false, false, n, din, dout, 1, dy, dout, weight.buf, din, 0, dx, din)
		}
		if wants(weight) {
			dw = e.get(weight.Len())
			e.dev.Gemm(true, false, dout, din, n, 1, dy, dout, x.buf, din, 0, dw, din)
		}
		if wants(bias) {
			db = e.get(dout)
			e.dev.ReduceSum(dy, 1, n, dout, db)
		}
		return []Buffer{dx, dw, db}
	})
	return y
}

// MatMul computes a·b for a [M,K] and b [K,N]. Under the engine's autocast
// it computes in low precision (see Autocast).
func MatMul(a, b *Tensor) *Tensor {
	return lowPrecision(a.eng, func(in []*Tensor) *Tensor { return matMul(in[0], in[1]) }, a, b)
}

func matMul(a, b *Tensor) *Tensor {
	e := a.eng
	e.checkEngine(b)
	if len(a.shape) != 2 || len(b.shape) != 2 || a.shape[1] != b.shape[0] {
		Panicf("tensor: matmul %v by %v", a.shape, b.shape)
	}
	m, k, n := a.shape[0], a.shape[1], b.shape[1]
	y := e.newLike([]int{m, n})
	e.dev.Gemm(false, false, m, n, k, 1, a.buf, k, b.buf, n, 0, y.buf, n)
	record(y, []*Tensor{a, b}, func(dy Buffer) []Buffer {
		var da, db Buffer
		if wants(a) {
			da = e.get(a.Len())
			e.dev.Gemm(false, true, m, k, n, 1, dy, n, b.buf, n, 0, da, k)
		}
		if wants(b) {
			db = e.get(b.Len())
			e.dev.Gemm(true, false, k, n, m, 1, a.buf, k, dy, n, 0, db, n)
		}
		return []Buffer{da, db}
	})
	return y
}
