package tensortest

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/tensor"
)

func cases() []kernelCase {
	var cs []kernelCase
	cs = append(cs, memoryCases()...)
	cs = append(cs, elementwiseCases()...)
	cs = append(cs, convCases()...)
	cs = append(cs, normCases()...)
	cs = append(cs, poolCases()...)
	cs = append(cs, lossAndIndexCases()...)
	return cs
}

func memoryCases() []kernelCase {
	return []kernelCase{
		{"upload view copy fill", func(h host, rng *rand.Rand) [][]float32 {
			x := h.up(randn(rng, 1001, -1, 1))
			y := h.zeros(1001)
			h.d.Copy(h.d.View(y, 100, 500), h.d.View(x, 3, 500))
			h.d.Fill(h.d.View(y, 900, 50), 2.5)
			return [][]float32{h.down(y)}
		}},
		{"gemm", func(h host, rng *rand.Rand) [][]float32 {
			var out [][]float32
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				m, n, k := 37, 29, 53
				a, b := h.up(randn(rng, m*k, -1, 1)), h.up(randn(rng, k*n, -1, 1))
				c := h.up(randn(rng, m*n, -1, 1))
				lda, ldb := k, n
				if tr[0] {
					lda = m
				}
				if tr[1] {
					ldb = k
				}
				h.d.Gemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 2, c, n)
				out = append(out, h.down(c))
			}
			return out
		}},
		{"axpby sum squares", func(h host, rng *rand.Rand) [][]float32 {
			x, y := h.up(randn(rng, 777, -1, 1)), h.up(randn(rng, 777, -1, 1))
			h.d.Axpby(1.5, x, -0.5, y)
			return [][]float32{h.down(y), {float32(h.d.SumSquares(y))}}
		}},
	}
}

func elementwiseCases() []kernelCase {
	var cs []kernelCase
	unary := []struct {
		op     tensor.UnaryOp
		p      float32
		lo, hi float32
	}{
		{tensor.UnaryRelu, 0, -1, 1}, {tensor.UnarySigmoid, 0, -5, 5}, {tensor.UnaryExp, 0, -3, 3},
		{tensor.UnaryLog, 0, 0.1, 3}, {tensor.UnaryNeg, 0, -1, 1}, {tensor.UnaryAbs, 0, -1, 1},
		{tensor.UnarySqrt, 0, 0.1, 3}, {tensor.UnaryRsqrt, 1e-5, 0.1, 3}, {tensor.UnaryScale, -2, -1, 1},
		{tensor.UnaryAddScalar, 3, -1, 1}, {tensor.UnarySquare, 0, -2, 2}, {tensor.UnarySmoothL1, 0.3, -1, 1},
		{tensor.UnarySmoothL1, 0, -1, 1}, {tensor.UnaryTanh, 0, -3, 3},
	}
	for _, u := range unary {
		cs = append(cs, kernelCase{fmt.Sprintf("unary %d p=%g", u.op, u.p), func(h host, rng *rand.Rand) [][]float32 {
			n := 1023
			x, dy := h.up(randn(rng, n, u.lo, u.hi)), h.up(randn(rng, n, -1, 1))
			y, dx := h.zeros(n), h.zeros(n)
			h.d.Unary(u.op, u.p, x, y)
			h.d.UnaryBackward(u.op, u.p, x, y, dy, dx)
			return [][]float32{h.down(y), h.down(dx)}
		}})
	}
	for _, op := range []tensor.BinaryOp{tensor.BinaryAdd, tensor.BinarySub, tensor.BinaryMul, tensor.BinaryDiv, tensor.BinaryBCEWithLogits} {
		cs = append(cs, kernelCase{fmt.Sprintf("binary %d", op), func(h host, rng *rand.Rand) [][]float32 {
			n := 999
			a, b, dy := h.up(randn(rng, n, -3, 3)), h.up(randn(rng, n, 0.2, 1)), h.up(randn(rng, n, -1, 1))
			y, da := h.zeros(n), h.zeros(n)
			h.d.Binary(op, a, b, y)
			var db tensor.Buffer
			if op != tensor.BinaryBCEWithLogits {
				db = h.zeros(n)
			}
			h.d.BinaryBackward(op, a, b, dy, da, db)
			out := [][]float32{h.down(y), h.down(da)}
			if db != nil {
				out = append(out, h.down(db))
			}
			// Broadcast [3,1,5] op [1,7,5] into [3,7,5].
			ab, bb := h.up(randn(rng, 15, -2, 2)), h.up(randn(rng, 35, 0.2, 1))
			yb := h.zeros(105)
			h.d.BroadcastBinary(op, []int{3, 7, 5}, ab, []int{5, 0, 1}, bb, []int{0, 5, 1}, yb)
			return append(out, h.down(yb))
		}})
	}
	cs = append(cs,
		kernelCase{"strided copy permute and accumulate", func(h host, rng *rand.Rand) [][]float32 {
			x := h.up(randn(rng, 2*3*5*7, -1, 1))
			y := h.zeros(2 * 3 * 5 * 7)
			// NCHW -> NHWC
			h.d.StridedCopy([]int{2, 5, 7, 3}, x, []int{105, 7, 1, 35}, y, []int{105, 21, 3, 1}, false)
			h.d.StridedCopy([]int{2, 5, 7, 3}, x, []int{105, 7, 1, 35}, y, []int{105, 21, 3, 1}, true)
			// broadcast a row with stride 0
			z := h.zeros(4 * 7)
			h.d.StridedCopy([]int{4, 7}, x, []int{0, 1}, z, []int{7, 1}, false)
			return [][]float32{h.down(y), h.down(z)}
		}},
		kernelCase{"reduce sum", func(h host, rng *rand.Rand) [][]float32 {
			x := h.up(randn(rng, 3*11*13, -1, 1))
			y1, y2, y3 := h.zeros(3*13), h.zeros(3), h.zeros(1)
			h.d.ReduceSum(x, 3, 11, 13, y1)
			h.d.ReduceSum(x, 3, 143, 1, y2)
			h.d.ReduceSum(x, 1, 429, 1, y3)
			return [][]float32{h.down(y1), h.down(y2), h.down(y3)}
		}},
		kernelCase{"softmax", func(h host, rng *rand.Rand) [][]float32 {
			x, dy := h.up(randn(rng, 7*13, -5, 5)), h.up(randn(rng, 7*13, -1, 1))
			y, dx := h.zeros(91), h.zeros(91)
			h.d.Softmax(x, 7, 13, y)
			h.d.SoftmaxBackward(y, dy, 7, 13, dx)
			return [][]float32{h.down(y), h.down(dx)}
		}},
	)
	return cs
}

func convCases() []kernelCase {
	geoms := []tensor.ConvGeom{
		{C: 3, H: 9, W: 11, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
		{C: 4, H: 13, W: 10, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
		{C: 2, H: 15, W: 15, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3, DilationH: 1, DilationW: 1},
		{C: 3, H: 10, W: 9, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, DilationH: 2, DilationW: 2},
		{C: 5, H: 7, W: 7, KH: 1, KW: 1, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1},
	}
	var cs []kernelCase
	for _, g := range geoms {
		cs = append(cs, kernelCase{fmt.Sprintf("im2col col2im %+v", g), func(h host, rng *rand.Rand) [][]float32 {
			x := h.up(randn(rng, g.C*g.H*g.W, -1, 1))
			col := h.zeros(g.ColRows() * g.ColCols())
			h.d.Im2col(x, g, col)
			dcol := h.up(randn(rng, g.ColRows()*g.ColCols(), -1, 1))
			dx := h.zeros(g.C * g.H * g.W)
			h.d.Col2im(dcol, g, dx)
			return [][]float32{h.down(col), h.down(dx)}
		}})
	}
	return cs
}

func normCases() []kernelCase {
	const n, c, hw = 3, 5, 37
	return []kernelCase{
		{"channel mean var and affine", func(h host, rng *rand.Rand) [][]float32 {
			x := h.up(randn(rng, n*c*hw, -1, 3))
			m, v := h.zeros(c), h.zeros(c)
			h.d.ChannelMeanVar(x, n, c, hw, m, v)
			sc, sh := h.up(randn(rng, c, 0.5, 2)), h.up(randn(rng, c, -1, 1))
			y := h.zeros(n * c * hw)
			h.d.ChannelAffine(x, n, c, hw, sc, sh, y)
			dy := h.up(randn(rng, n*c*hw, -1, 1))
			dx, ds, dh := h.zeros(n*c*hw), h.zeros(c), h.zeros(c)
			h.d.ChannelAffineBackward(x, dy, n, c, hw, sc, dx, ds, dh)
			return [][]float32{h.down(m), h.down(v), h.down(y), h.down(dx), h.down(ds), h.down(dh)}
		}},
		{"channel affine with nil operands (conv bias)", func(h host, rng *rand.Rand) [][]float32 {
			x, sh := h.up(randn(rng, n*c*hw, -1, 1)), h.up(randn(rng, c, -1, 1))
			y := h.zeros(n * c * hw)
			h.d.ChannelAffine(x, n, c, hw, nil, sh, y)
			h.d.ChannelAffine(y, n, c, hw, h.up(randn(rng, c, 0.5, 2)), nil, y) // in place
			dh := h.zeros(c)
			h.d.ChannelAffineBackward(nil, x, n, c, hw, nil, nil, nil, dh)
			return [][]float32{h.down(y), h.down(dh)}
		}},
		{"batch norm backward without affine", func(h host, rng *rand.Rand) [][]float32 {
			x, dy := h.up(randn(rng, n*c*hw, -1, 3)), h.up(randn(rng, n*c*hw, -1, 1))
			m, v, inv := h.zeros(c), h.zeros(c), h.zeros(c)
			h.d.ChannelMeanVar(x, n, c, hw, m, v)
			h.d.Unary(tensor.UnaryRsqrt, 1e-5, v, inv)
			dx := h.zeros(n * c * hw)
			h.d.BatchNormBackward(x, dy, n, c, hw, m, inv, nil, dx, nil, nil)
			return [][]float32{h.down(dx)}
		}},
		{"batch norm backward", func(h host, rng *rand.Rand) [][]float32 {
			x, dy := h.up(randn(rng, n*c*hw, -1, 3)), h.up(randn(rng, n*c*hw, -1, 1))
			m, v, inv := h.zeros(c), h.zeros(c), h.zeros(c)
			h.d.ChannelMeanVar(x, n, c, hw, m, v)
			h.d.Unary(tensor.UnaryRsqrt, 1e-5, v, inv)
			w := h.up(randn(rng, c, 0.5, 2))
			dx, dw, db := h.zeros(n*c*hw), h.zeros(c), h.zeros(c)
			h.d.BatchNormBackward(x, dy, n, c, hw, m, inv, w, dx, dw, db)
			return [][]float32{h.down(dx), h.down(dw), h.down(db)}
		}},
	}
}

func poolCases() []kernelCase {
	g := tensor.PoolGeom{N: 2, C: 3, H: 11, W: 9, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	out := g.N * g.C * g.OutH() * g.OutW()
	in := g.N * g.C * g.H * g.W
	return []kernelCase{
		{"max pool", func(h host, rng *rand.Rand) [][]float32 {
			x, dy := h.up(randn(rng, in, -1, 1)), h.up(randn(rng, out, -1, 1))
			y, arg, dx := h.zeros(out), h.d.AllocIndex(out), h.zeros(in)
			h.d.MaxPool2d(x, g, y, arg)
			h.d.MaxPool2dBackward(dy, arg, g, dx)
			return [][]float32{h.down(y), h.downIdx(arg), h.down(dx)}
		}},
		{"avg pool", func(h host, rng *rand.Rand) [][]float32 {
			x, dy := h.up(randn(rng, in, -1, 1)), h.up(randn(rng, out, -1, 1))
			y, dx := h.zeros(out), h.zeros(in)
			h.d.AvgPool2d(x, g, y)
			h.d.AvgPool2dBackward(dy, g, dx)
			return [][]float32{h.down(y), h.down(dx)}
		}},
		{"adaptive avg pool", func(h host, rng *rand.Rand) [][]float32 {
			x, dy := h.up(randn(rng, 6*11*9, -1, 1)), h.up(randn(rng, 6*4*3, -1, 1))
			y, dx := h.zeros(6*4*3), h.zeros(6*11*9)
			h.d.AdaptiveAvgPool2d(x, 6, 11, 9, 4, 3, y)
			h.d.AdaptiveAvgPool2dBackward(dy, 6, 11, 9, 4, 3, dx)
			return [][]float32{h.down(y), h.down(dx)}
		}},
		{"upsample nearest", func(h host, rng *rand.Rand) [][]float32 {
			x := h.up(randn(rng, 6*5*7, -1, 1))
			y, dx := h.zeros(6*10*14), h.zeros(6*5*7)
			h.d.UpsampleNearest(x, 6, 5, 7, 2, y)
			h.d.UpsampleNearestBackward(y, 6, 5, 7, 2, dx)
			return [][]float32{h.down(y), h.down(dx)}
		}},
	}
}

func lossAndIndexCases() []kernelCase {
	return []kernelCase{
		{"softmax cross entropy", func(h host, rng *rand.Rand) [][]float32 {
			n, k := 9, 6
			logits := h.up(randn(rng, n*k, -4, 4))
			labels := h.upIdx([]int32{0, 5, -100, 2, 2, 1, 3, 4, -100})
			loss, prob := h.zeros(n), h.zeros(n*k)
			h.d.SoftmaxCrossEntropy(logits, labels, n, k, -100, loss, prob)
			dl := h.up(randn(rng, n, 0, 1))
			dx := h.zeros(n * k)
			h.d.SoftmaxCrossEntropyBackward(prob, labels, dl, n, k, -100, dx)
			return [][]float32{h.down(loss), h.down(prob), h.down(dx)}
		}},
		{"sigmoid focal loss", func(h host, rng *rand.Rand) [][]float32 {
			n, k := 600, 9 // two CPU row grains and more, so a multi-worker CPU splits it
			logits := h.up(randn(rng, n*k, -8, 8))
			lab := make([]int32, n)
			for i := range lab {
				lab[i] = int32(rng.IntN(k+2)) - 1 // -1 ignored, k background
			}
			labels := h.upIdx(lab)
			loss, dx := h.zeros(n), h.zeros(n*k)
			h.d.SigmoidFocalLoss(logits, labels, n, k, 2, 0.25, loss)
			dl := h.up(randn(rng, n, 0, 1))
			h.d.SigmoidFocalLossBackward(logits, labels, dl, n, k, 2, 0.25, dx)
			return [][]float32{h.down(loss), h.down(dx)}
		}},
		{"index select and add", func(h host, rng *rand.Rand) [][]float32 {
			src := h.up(randn(rng, 3*7*5, -1, 1))
			idx := h.upIdx([]int32{6, 0, 6, 2})
			dst := h.zeros(3 * 4 * 5)
			h.d.IndexSelect(src, 3, 7, 5, idx, dst)
			back := h.zeros(3 * 7 * 5)
			h.d.IndexAdd(dst, 3, 7, 5, idx, back)
			return [][]float32{h.down(dst), h.down(back)}
		}},
		{"gather and scatter rows", func(h host, rng *rand.Rand) [][]float32 {
			src := h.up(randn(rng, 4*6, -1, 1))
			idx := h.upIdx([]int32{0, 5, 5, 1, 2, 3, 4, 4, 0, 0, 1, 2})
			dst := h.zeros(4 * 3)
			h.d.GatherRows(src, 4, 6, idx, 3, dst)
			back := h.zeros(4 * 6)
			h.d.ScatterAddRows(dst, 4, 6, idx, 3, back)
			return [][]float32{h.down(dst), h.down(back)}
		}},
		{"sort rows", func(h host, rng *rand.Rand) [][]float32 {
			// Few distinct values, so ties exercise stability.
			vals := make([]float32, 5*33)
			for i := range vals {
				vals[i] = float32(rng.IntN(7))
			}
			x := h.up(vals)
			desc, asc := h.d.AllocIndex(5*33), h.d.AllocIndex(5*4)
			h.d.SortRows(x, 5, 33, 33, true, desc)
			h.d.SortRows(x, 5, 33, 4, false, asc)
			return [][]float32{h.downIdx(desc), h.downIdx(asc)}
		}},
	}
}
