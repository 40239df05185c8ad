package tensor

// ConvOptions are conv2d's hyper-parameters as (height, width) pairs. A zero
// Stride or Dilation means 1; Padding is zero padding on each side.
type ConvOptions struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
}

// Conv2d convolves x [N,C,H,W] with weight [Cout,C,KH,KW] and adds bias
// [Cout] when not nil, giving [N,Cout,OH,OW] (PyTorch's conv2d, groups=1).
// It is im2col + GEMM per image; 1×1 stride-1 unpadded convolutions skip
// im2col because the image already is the column matrix. Under the
// engine's autocast it computes in low precision (see Autocast).
func Conv2d(x, weight, bias *Tensor, opt ConvOptions) *Tensor {
	return lowPrecision(x.eng, func(in []*Tensor) *Tensor { return conv2d(in[0], in[1], in[2], opt) }, x, weight, bias)
}

func conv2d(x, weight, bias *Tensor, opt ConvOptions) *Tensor {
	e := x.eng
	e.checkEngine(weight, bias)
	g := convGeom(x, weight, opt)
	n, cout := x.shape[0], weight.shape[0]
	oh, ow := g.OutH(), g.OutW()
	if oh <= 0 || ow <= 0 {
		Panicf("tensor: conv2d output %dx%d for input %v, weight %v", oh, ow, x.shape, weight.shape)
	}
	y := e.newLike([]int{n, cout, oh, ow})
	convForward(e, x.buf, weight.buf, g, n, cout, y.buf)
	if bias != nil {
		e.dev.ChannelAffine(y.buf, n, cout, oh*ow, nil, bias.buf, y.buf)
	}
	record(y, []*Tensor{x, weight, bias}, func(dy Buffer) []Buffer {
		return convBackward(e, x, weight, bias, g, dy)
	})
	return y
}

func convGeom(x, w *Tensor, opt ConvOptions) ConvGeom {
	if len(x.shape) != 4 || len(w.shape) != 4 || x.shape[1] != w.shape[1] {
		Panicf("tensor: conv2d input %v with weight %v", x.shape, w.shape)
	}
	one := func(v int) int { return max(v, 1) }
	return ConvGeom{
		C: x.shape[1], H: x.shape[2], W: x.shape[3],
		KH: w.shape[2], KW: w.shape[3],
		StrideH: one(opt.Stride[0]), StrideW: one(opt.Stride[1]),
		PadH: opt.Padding[0], PadW: opt.Padding[1],
		DilationH: one(opt.Dilation[0]), DilationW: one(opt.Dilation[1]),
	}
}

// pointwise reports whether the image itself is the column matrix.
func (g ConvGeom) pointwise() bool {
	return g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0
}

// batchedColsLimit is the output size (OH·OW) below which a batch is
// convolved as one GEMM over [C·KH·KW, N·OH·OW] columns: with few columns per
// image the GEMM's packing of the weight dominates, so doing it once per
// batch instead of once per image pays for the extra copies.
const batchedColsLimit = 256

func useBatched(n int, g ConvGeom) bool { return n > 1 && g.ColCols() < batchedColsLimit }

// batchCols fills col [C·KH·KW, N·OH·OW] with every image's column matrix
// side by side.
func batchCols(e *Engine, x Buffer, g ConvGeom, n int, col Buffer) {
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	var tmp Buffer
	if !g.pointwise() {
		tmp = e.get(rows * cols)
		defer e.put(tmp)
	}
	for i := 0; i < n; i++ {
		src := d.View(x, i*inSize, inSize)
		if tmp != nil {
			d.Im2col(src, g, tmp)
			src = tmp
		}
		d.StridedCopy([]int{rows, cols}, src, []int{cols, 1}, d.View(col, i*cols, rows*n*cols-i*cols), []int{n * cols, 1}, false)
	}
}

// ConvDevice is implemented by devices with a convolution library (cuDNN)
// that convolves a whole batch [N,C,H,W] with a weight [Cout,C,KH,KW] in
// one call: Conv2d hands such a device the batch instead of composing
// im2col and GEMM per image. Each method overwrites its output and reports
// false, having written nothing, when it cannot run the geometry (library
// absent, shape unsupported); Conv2d then composes the operation itself.
type ConvDevice interface {
	ConvForward(x, w Buffer, g ConvGeom, n, cout int, y Buffer) bool
	ConvBackwardData(w, dy Buffer, g ConvGeom, n, cout int, dx Buffer) bool
	ConvBackwardFilter(x, dy Buffer, g ConvGeom, n, cout int, dw Buffer) bool
}

// im2colGemmer is implemented by devices whose GEMM can pack the column
// matrix of an image straight from the image (the CPU): Gemm with B =
// im2col(x) (transB: its transpose), bit-identical to Im2col then Gemm.
// Convolutions then skip writing the column matrix (up to 155 MB for a
// ResNet layer1 3x3 conv at 1333x800) and reading it back.
type im2colGemmer interface {
	GemmIm2col(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, x Buffer, g ConvGeom, beta float32, c Buffer, ldc int)
}

// convForward computes y as one GEMM per image, or per batch for small
// outputs (see batchedColsLimit), unless the device convolves itself.
// Backward rebuilds the column matrices rather than keeping them: keeping
// them measured no faster and costs their memory for the whole step.
func convForward(e *Engine, x, w Buffer, g ConvGeom, n, cout int, y Buffer) {
	d := e.dev
	if cd, ok := d.(ConvDevice); ok && cd.ConvForward(x, w, g, n, cout, y) {
		return
	}
	rows, cols := g.ColRows(), g.ColCols()
	if useBatched(n, g) {
		col, out := e.get(rows*n*cols), e.get(cout*n*cols)
		defer e.put(col)
		defer e.put(out)
		batchCols(e, x, g, n, col)
		d.Gemm(false, false, cout, n*cols, rows, 1, w, rows, col, n*cols, 0, out, n*cols)
		// [Cout, N, OH·OW] -> [N, Cout, OH·OW]
		d.StridedCopy([]int{n, cout, cols}, out, []int{cols, n * cols, 1}, y, []int{cout * cols, cols, 1}, false)
		return
	}
	inSize, outSize := g.C*g.H*g.W, cout*cols
	ig, fused := d.(im2colGemmer)
	fused = fused && !g.pointwise()
	var col Buffer
	if !g.pointwise() && !fused {
		col = e.get(rows * cols)
		defer e.put(col)
	}
	for i := 0; i < n; i++ {
		src := d.View(x, i*inSize, inSize)
		if fused {
			ig.GemmIm2col(false, false, cout, cols, rows, 1, w, rows, src, g, 0, d.View(y, i*outSize, outSize), cols)
			continue
		}
		if col != nil {
			d.Im2col(src, g, col)
			src = col
		}
		d.Gemm(false, false, cout, cols, rows, 1, w, rows, src, cols, 0, d.View(y, i*outSize, outSize), cols)
	}
}

// convBackward returns the gradients of x, weight and bias.
func convBackward(e *Engine, x, weight, bias *Tensor, g ConvGeom, dy Buffer) []Buffer {
	n, cout := x.shape[0], weight.shape[0]
	var dx, dw, db Buffer
	if wants(bias) {
		db = e.get(cout)
		e.dev.ChannelAffineBackward(nil, dy, n, cout, g.ColCols(), nil, nil, nil, db)
	}
	if wants(weight) {
		dw = e.get(weight.Len())
	}
	if wants(x) {
		dx = e.get(x.Len())
	}
	convGrads(e, x.buf, weight.buf, g, n, cout, dy, dx, dw)
	return []Buffer{dx, dw, db}
}

// convGrads overwrites dx [N,C,H,W] and dw [Cout,C,KH,KW] (each nil when not
// wanted) with the gradients of the convolution of x by w whose output
// gradient is dy [N,Cout,OH,OW]. ConvTranspose2d runs its forward pass and
// its weight gradient through it too, with the roles of input and output
// swapped.
func convGrads(e *Engine, x, w Buffer, g ConvGeom, n, cout int, dy, dx, dw Buffer) {
	// What the device convolves itself drops out of the composition.
	if cd, ok := e.dev.(ConvDevice); ok {
		if dw != nil && cd.ConvBackwardFilter(x, dy, g, n, cout, dw) {
			dw = nil
		}
		if dx != nil && cd.ConvBackwardData(w, dy, g, n, cout, dx) {
			dx = nil
		}
	}
	convBackwardComposed(e, x, w, g, n, cout, dy, dx, dw)
}

// convBackwardComposed computes dx and dw (each nil when not wanted) from
// im2col, col2im and GEMMs, per image or per batch.
func convBackwardComposed(e *Engine, x, w Buffer, g ConvGeom, n, cout int, dy, dx, dw Buffer) {
	if dx == nil && dw == nil {
		return
	}
	if useBatched(n, g) {
		convBackwardBatched(e, x, w, g, n, cout, dy, dx, dw)
		return
	}
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	outSize := cout * cols
	ig, fused := d.(im2colGemmer)
	fused = fused && !g.pointwise()
	var col Buffer // scratch for rebuilt columns and for dcol
	if !g.pointwise() && (dx != nil || !fused) {
		col = e.get(rows * cols)
		defer e.put(col)
	}
	for i := 0; i < n; i++ {
		dyi := d.View(dy, i*outSize, outSize)
		if dw != nil {
			beta := float32(1)
			if i == 0 {
				beta = 0
			}
			// dW += dY·colᵀ
			src := d.View(x, i*inSize, inSize)
			if fused {
				ig.GemmIm2col(false, true, cout, rows, cols, 1, dyi, cols, src, g, beta, dw, rows)
			} else {
				if col != nil {
					d.Im2col(src, g, col)
					src = col
				}
				d.Gemm(false, true, cout, rows, cols, 1, dyi, cols, src, cols, beta, dw, rows)
			}
		}
		if dx != nil {
			dxi := d.View(dx, i*inSize, inSize)
			if col == nil {
				d.Gemm(true, false, rows, cols, cout, 1, w, rows, dyi, cols, 0, dxi, cols)
				continue
			}
			// dcol = Wᵀ·dY, then scatter back onto the image.
			d.Gemm(true, false, rows, cols, cout, 1, w, rows, dyi, cols, 0, col, cols)
			d.Col2im(col, g, dxi)
		}
	}
}

// convBackwardBatched is convBackward with whole-batch GEMMs (see
// batchedColsLimit); dx and dw are nil when not wanted.
func convBackwardBatched(e *Engine, x, w Buffer, g ConvGeom, n, cout int, dy, dx, dw Buffer) {
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	// dY as [Cout, N·OH·OW].
	dyT := e.get(cout * n * cols)
	defer e.put(dyT)
	d.StridedCopy([]int{n, cout, cols}, dy, []int{cout * cols, cols, 1}, dyT, []int{cols, n * cols, 1}, false)
	col := e.get(rows * n * cols) // rebuilt columns, then dcol
	defer e.put(col)
	if dw != nil {
		batchCols(e, x, g, n, col)
		d.Gemm(false, true, cout, rows, n*cols, 1, dyT, n*cols, col, n*cols, 0, dw, rows)
	}
	if dx == nil {
		return
	}
	d.Gemm(true, false, rows, n*cols, cout, 1, w, rows, dyT, n*cols, 0, col, n*cols)
	var tmp Buffer
	if !g.pointwise() {
		tmp = e.get(rows * cols)
		defer e.put(tmp)
	}
	for i := 0; i < n; i++ {
		dst := d.View(dx, i*inSize, inSize)
		if tmp != nil {
			dst = tmp
		}
		d.StridedCopy([]int{rows, cols}, d.View(col, i*cols, rows*n*cols-i*cols), []int{n * cols, 1}, dst, []int{cols, 1}, false)
		if tmp != nil {
			d.Col2im(tmp, g, d.View(dx, i*inSize, inSize))
		}
	}
}
