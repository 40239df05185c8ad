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
// [im2col(x_0) … im2col(x_{images-1})], the column matrices of the images
// in x side by side (transB: its transpose), bit-identical to Im2col then
// Gemm. Convolutions then skip writing the column matrix (up to 155 MB for
// a ResNet layer1 3x3 conv at 1333x800) and reading it back. Col2imAdd
// adds a tile of columns j0..j0+span, stored [C·KH·KW, span] with row
// stride ld, onto image x, so that a strided convolution's input gradient
// needs only a tile of its column matrix at a time.
type im2colGemmer interface {
	GemmIm2col(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, x Buffer, g ConvGeom, images int, beta float32, c Buffer, ldc int)
	Col2imAdd(col Buffer, ld int, g ConvGeom, j0, span int, x Buffer)
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
	ig, fused := d.(im2colGemmer)
	if useBatched(n, g) {
		out := e.get(cout * n * cols)
		defer e.put(out)
		if fused {
			ig.GemmIm2col(false, false, cout, n*cols, rows, 1, w, rows, x, g, n, 0, out, n*cols)
		} else {
			col := e.get(rows * n * cols)
			defer e.put(col)
			batchCols(e, x, g, n, col)
			d.Gemm(false, false, cout, n*cols, rows, 1, w, rows, col, n*cols, 0, out, n*cols)
		}
		// [Cout, N, OH·OW] -> [N, Cout, OH·OW]
		d.StridedCopy([]int{n, cout, cols}, out, []int{cols, n * cols, 1}, y, []int{cout * cols, cols, 1}, false)
		return
	}
	inSize, outSize := g.C*g.H*g.W, cout*cols
	fused = fused && !g.pointwise()
	var col Buffer
	if !g.pointwise() && !fused {
		col = e.get(rows * cols)
		defer e.put(col)
	}
	for i := 0; i < n; i++ {
		src := d.View(x, i*inSize, inSize)
		if fused {
			ig.GemmIm2col(false, false, cout, cols, rows, 1, w, rows, src, g, 1, 0, d.View(y, i*outSize, outSize), cols)
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
	ig, packed := e.dev.(im2colGemmer)
	switch {
	case !packed:
		convBackwardStored(e, x, w, g, n, cout, dy, dx, dw)
	case useBatched(n, g):
		convBackwardBatched(e, ig, x, w, g, n, cout, dy, dx, dw)
	default:
		if dw != nil {
			convWeightGrad(e, ig, x, g, n, cout, dy, dw)
		}
		if dx != nil {
			convDataGrad(e, ig, w, g, n, cout, dy, dx)
		}
	}
}

// convBackwardStored is convBackwardComposed for devices that store the
// column matrices: Im2col, then GEMMs, then Col2im.
func convBackwardStored(e *Engine, x, w Buffer, g ConvGeom, n, cout int, dy, dx, dw Buffer) {
	if useBatched(n, g) {
		convBackwardStoredBatched(e, x, w, g, n, cout, dy, dx, dw)
		return
	}
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	outSize := cout * cols
	var col Buffer // scratch for rebuilt columns and for dcol
	if !g.pointwise() {
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
			if col != nil {
				d.Im2col(src, g, col)
				src = col
			}
			d.Gemm(false, true, cout, rows, cols, 1, dyi, cols, src, cols, beta, dw, rows)
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

// convBackwardStoredBatched is convBackwardStored with whole-batch GEMMs
// (see batchedColsLimit).
func convBackwardStoredBatched(e *Engine, x, w Buffer, g ConvGeom, n, cout int, dy, dx, dw Buffer) {
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	dyT := batchMajor(e, dy, n, cout, cols)
	defer e.put(dyT)
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

// batchMajor returns y [N, C, HW] as a new [C, N·HW] buffer (the caller
// puts it back): one GEMM operand for the whole batch.
func batchMajor(e *Engine, y Buffer, n, c, hw int) Buffer {
	t := e.get(c * n * hw)
	e.dev.StridedCopy([]int{n, c, hw}, y, []int{c * hw, hw, 1}, t, []int{hw, n * hw, 1}, false)
	return t
}

// imageMajor overwrites y [N, C, HW] with t [C, N·HW], batchMajor's inverse.
func imageMajor(e *Engine, t Buffer, n, c, hw int, y Buffer) {
	e.dev.StridedCopy([]int{n, c, hw}, t, []int{hw, n * hw, 1}, y, []int{c * hw, hw, 1}, false)
}

// convWeightGrad overwrites dw with Σ_i dY_i·col_iᵀ, packing each image's
// columns straight from x.
func convWeightGrad(e *Engine, ig im2colGemmer, x Buffer, g ConvGeom, n, cout int, dy, dw Buffer) {
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	outSize := cout * cols
	for i := 0; i < n; i++ {
		beta := float32(1)
		if i == 0 {
			beta = 0
		}
		dyi, xi := d.View(dy, i*outSize, outSize), d.View(x, i*inSize, inSize)
		if g.pointwise() {
			d.Gemm(false, true, cout, rows, cols, 1, dyi, cols, xi, cols, beta, dw, rows)
		} else {
			ig.GemmIm2col(false, true, cout, rows, cols, 1, dyi, cols, xi, g, 1, beta, dw, rows)
		}
	}
}

// convDataGrad overwrites dx with the input gradient Wᵀ·dY scattered back
// onto the images, without a whole column matrix: dcol goes a tile of
// columns at a time (convDataGradTiled).
func convDataGrad(e *Engine, ig im2colGemmer, w Buffer, g ConvGeom, n, cout int, dy, dx Buffer) {
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	outSize := cout * cols
	if g.pointwise() {
		for i := 0; i < n; i++ {
			d.Gemm(true, false, rows, cols, cout, 1, w, rows, d.View(dy, i*outSize, outSize), cols, 0, d.View(dx, i*inSize, inSize), cols)
		}
		return
	}
	convDataGradTiled(e, ig, w, g, n, cout, dy, dx)
}

// dcolTileFloats bounds the scratch of an input gradient that goes through
// dcol = Wᵀ·dY (strided convolutions, small batched images): dcol is
// computed and scattered a tile of columns, or a few images, at a time.
// 4 MB keeps it in the last-level cache between the GEMM writing it and
// Col2imAdd reading it, where the whole matrix was up to 155 MB. A variable
// so that tests can force several tiles on small images.
var dcolTileFloats = 1 << 20

// dcolTileCols is the tile width for a column matrix of rows×cols: as many
// columns as fit dcolTileFloats, but at least 256 so the GEMM stays
// efficient, in multiples of 64 (whole micro-kernel panels).
func dcolTileCols(rows, cols int) int {
	span := max(dcolTileFloats/max(rows, 1)/64*64, 256)
	return min(span, cols)
}

// convDataGradTiled computes dx one image and one tile of dcol columns at a
// time: dcol tile = Wᵀ·dY[:, j0:j0+span], then Col2imAdd. The tiles go last
// first, which keeps dx bit for bit Col2im's of the whole matrix: Col2im
// adds an input pixel's terms in tap order (kh, kw), and a later tap of a
// pixel always comes from an earlier output pixel, so a later tile.
func convDataGradTiled(e *Engine, ig im2colGemmer, w Buffer, g ConvGeom, n, cout int, dy, dx Buffer) {
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	outSize := cout * cols
	span := dcolTileCols(rows, cols)
	tile := e.get(rows * span)
	defer e.put(tile)
	d.Fill(dx, 0)
	last := (cols - 1) / span * span // start of the last tile
	for i := 0; i < n; i++ {
		dyi, dxi := d.View(dy, i*outSize, outSize), d.View(dx, i*inSize, inSize)
		for j0 := last; j0 >= 0; j0 -= span {
			s := min(span, cols-j0)
			d.Gemm(true, false, rows, s, cout, 1, w, rows, d.View(dyi, j0, outSize-j0), cols, 0, tile, s)
			ig.Col2imAdd(tile, s, g, j0, s, dxi)
		}
	}
}

// convBackwardBatched is convBackwardComposed with whole-batch GEMMs (see
// batchedColsLimit) whose column operands are packed straight from the
// images; dx and dw are nil when not wanted. The input gradient goes
// through dcol = Wᵀ·dY and Col2imAdd, a few whole images at a time so that
// dcol stays within dcolTileFloats (bit for bit Col2im's).
func convBackwardBatched(e *Engine, ig im2colGemmer, x, w Buffer, g ConvGeom, n, cout int, dy, dx, dw Buffer) {
	d := e.dev
	inSize, rows, cols := g.C*g.H*g.W, g.ColRows(), g.ColCols()
	dyT := batchMajor(e, dy, n, cout, cols) // dY as [Cout, N·OH·OW]
	defer e.put(dyT)
	if dw != nil {
		ig.GemmIm2col(false, true, cout, rows, n*cols, 1, dyT, n*cols, x, g, n, 0, dw, rows)
	}
	if dx == nil {
		return
	}
	if g.pointwise() {
		out := e.get(rows * n * cols)
		defer e.put(out)
		d.Gemm(true, false, rows, n*cols, cout, 1, w, rows, dyT, n*cols, 0, out, n*cols)
		imageMajor(e, out, n, g.C, cols, dx)
		return
	}
	per := min(n, max(1, dcolTileFloats/(rows*cols))) // images per dcol chunk
	col := e.get(rows * per * cols)
	defer e.put(col)
	d.Fill(dx, 0)
	for i0 := 0; i0 < n; i0 += per {
		m := min(per, n-i0)
		d.Gemm(true, false, rows, m*cols, cout, 1, w, rows, d.View(dyT, i0*cols, cout*n*cols-i0*cols), n*cols, 0, col, m*cols)
		for i := 0; i < m; i++ {
			ig.Col2imAdd(d.View(col, i*cols, rows*m*cols-i*cols), m*cols, g, 0, cols, d.View(dx, (i0+i)*inSize, inSize))
		}
	}
}
