package tensor

// Buffer is a run of float32 elements in a device's memory. A CPU buffer wraps
// a Go slice; a GPU buffer is a device pointer and a length. Buffers are only
// ever read or written through their Device, so a backend keeps them resident
// and nothing forces a round trip through host memory. Buffer values must be
// comparable (the engine keys maps by them): use pointer types.
type Buffer interface {
	// Len is the number of float32 elements.
	Len() int
}

// IndexBuffer is a run of int32 elements in a device's memory: labels, gather
// indices, max-pool argmax positions and sort results.
type IndexBuffer interface {
	// Len is the number of int32 elements.
	Len() int
}

// UnaryOp names an elementwise function y = f(x; p) where p is the scalar
// parameter passed beside it (ignored by ops that take none).
type UnaryOp int

// The unary operations. The formula after each name is what the kernel computes.
const (
	UnaryRelu      UnaryOp = iota // max(x, 0)
	UnarySigmoid                  // 1/(1+exp(-x))
	UnaryExp                      // exp(x)
	UnaryLog                      // log(x)
	UnaryNeg                      // -x
	UnaryAbs                      // |x|
	UnarySqrt                     // sqrt(x)
	UnaryRsqrt                    // 1/sqrt(x+p), p an epsilon
	UnaryScale                    // p*x
	UnaryAddScalar                // x+p
	UnarySquare                   // x*x
	UnarySmoothL1                 // 0.5*x*x/p if |x| < p else |x|-0.5*p (p = beta > 0); |x| when p == 0
	UnaryTanh                     // tanh(x)
)

// BinaryOp names an elementwise function y = f(a, b).
type BinaryOp int

// The binary operations.
const (
	BinaryAdd           BinaryOp = iota // a+b
	BinarySub                           // a-b
	BinaryMul                           // a*b
	BinaryDiv                           // a/b
	BinaryBCEWithLogits                 // max(a,0) - a*b + log(1+exp(-|a|)); a logits, b targets in [0,1]
)

// ConvGeom describes a 2-D convolution window over one image of C×H×W. The
// column matrix built by Im2col is [C·KH·KW, OH·OW]: row (c,kh,kw), column
// (oh,ow), the layout that makes conv2d forward one GEMM with the weight
// viewed as [Cout, C·KH·KW].
type ConvGeom struct {
	C, H, W              int // input channels and size
	KH, KW               int // kernel size
	StrideH, StrideW     int
	PadH, PadW           int // zero padding on each side
	DilationH, DilationW int
}

// OutH is the output height: floor((H + 2·PadH − DilationH·(KH−1) − 1)/StrideH) + 1.
func (g ConvGeom) OutH() int {
	return (g.H+2*g.PadH-g.DilationH*(g.KH-1)-1)/g.StrideH + 1
}

// OutW is the output width, as OutH.
func (g ConvGeom) OutW() int {
	return (g.W+2*g.PadW-g.DilationW*(g.KW-1)-1)/g.StrideW + 1
}

// ColRows is the number of rows of the im2col matrix, C·KH·KW.
func (g ConvGeom) ColRows() int { return g.C * g.KH * g.KW }

// ColCols is the number of columns of the im2col matrix, OH·OW.
func (g ConvGeom) ColCols() int { return g.OutH() * g.OutW() }

// PoolGeom describes a 2-D pooling window over a batch of N×C×H×W. Output
// sizes use floor rounding (PyTorch's ceil_mode=False).
type PoolGeom struct {
	N, C, H, W       int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
}

// OutH is floor((H + 2·PadH − KH)/StrideH) + 1.
func (g PoolGeom) OutH() int { return (g.H+2*g.PadH-g.KH)/g.StrideH + 1 }

// OutW is floor((W + 2·PadW − KW)/StrideW) + 1.
func (g PoolGeom) OutW() int { return (g.W+2*g.PadW-g.KW)/g.StrideW + 1 }

// Device is the set of kernels every tensor operation dispatches through. The
// CPU device (NewCPU) is the reference implementation; a GPU backend
// implements the same methods on device-resident buffers.
//
// Conventions shared by all kernels:
//   - Buffers passed to a kernel were allocated by the same device (or are
//     views of such buffers) and are not aliased unless a method says so.
//   - Sizes are element counts; shapes are row-major with the last dimension
//     fastest. A kernel reads exactly the elements its sizes describe.
//   - Kernels overwrite their outputs unless the doc says "accumulates".
//   - Kernels may run asynchronously; Download and DownloadIndex wait for all
//     earlier work on the device, so their results are always current.
//   - Programmer errors (wrong sizes, foreign buffers) panic.
type Device interface {
	// Name identifies the device, e.g. "cpu" or "cuda:0".
	Name() string

	// Alloc returns a buffer of n elements with undefined contents.
	Alloc(n int) Buffer
	// Free releases a buffer from Alloc; views must not be freed.
	Free(b Buffer)
	// View returns elements [off, off+n) of b, sharing memory.
	View(b Buffer, off, n int) Buffer
	// Upload copies host data into dst; len(src) == dst.Len().
	Upload(dst Buffer, src []float32)
	// Download copies src into host memory; len(dst) == src.Len().
	Download(dst []float32, src Buffer)
	// Copy copies src into dst (same length, not overlapping).
	Copy(dst, src Buffer)
	// Fill sets every element of dst to v.
	Fill(dst Buffer, v float32)

	// AllocIndex returns an index buffer of n elements with undefined contents.
	AllocIndex(n int) IndexBuffer
	// FreeIndex releases an index buffer from AllocIndex.
	FreeIndex(b IndexBuffer)
	// UploadIndex copies host indices into dst.
	UploadIndex(dst IndexBuffer, src []int32)
	// DownloadIndex copies src into host memory.
	DownloadIndex(dst []int32, src IndexBuffer)

	// Gemm computes C = alpha·op(A)·op(B) + beta·C, row-major, op(X) = X or Xᵀ;
	// op(A) is m×k, op(B) k×n, C m×n; beta == 0 means C is not read.
	Gemm(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, b Buffer, ldb int, beta float32, c Buffer, ldc int)
	// Axpby computes y = alpha·x + beta·y elementwise; beta == 0 means y is not read.
	Axpby(alpha float32, x Buffer, beta float32, y Buffer)
	// SumSquares returns Σ x², accumulated in float64, to the host (used for
	// gradient-norm clipping, which needs the scalar on the host anyway).
	SumSquares(x Buffer) float64

	// Unary computes y = op(x; p); y may be x.
	Unary(op UnaryOp, p float32, x, y Buffer)
	// UnaryBackward computes dx = dy·op'(x; p). y is the forward output
	// (Sigmoid, Exp, Sqrt, Rsqrt and Tanh use it instead of x).
	UnaryBackward(op UnaryOp, p float32, x, y, dy, dx Buffer)
	// Binary computes y = op(a, b) over equal lengths; y may alias a or b.
	Binary(op BinaryOp, a, b, y Buffer)
	// BinaryBackward computes da = dy·∂op/∂a and db = dy·∂op/∂b over equal
	// lengths. Either output may be nil when not wanted. For BCEWithLogits
	// db (the target's gradient) is not defined and must be nil.
	BinaryBackward(op BinaryOp, a, b, dy, da, db Buffer)
	// BroadcastBinary computes y[i] = op(a[ia], b[ib]) over shape, where y is
	// contiguous and the strides of a and b (0 on broadcast dimensions) map a
	// multi-index to an element offset. y may alias an operand that has y's
	// own contiguous strides.
	BroadcastBinary(op BinaryOp, shape []int, a Buffer, aStrides []int, b Buffer, bStrides []int, y Buffer)
	// StridedCopy copies src to dst over shape with the given element strides
	// (permute, slice, concat and broadcast are all strided copies). With
	// accumulate it adds into dst instead; destination offsets must then be
	// distinct (no stride-0 dimension on dst).
	StridedCopy(shape []int, src Buffer, srcStrides []int, dst Buffer, dstStrides []int, accumulate bool)
	// ReduceSum views x as [outer, mid, inner] and writes y[o,i] = Σ_m x[o,m,i].
	ReduceSum(x Buffer, outer, mid, inner int, y Buffer)

	// Im2col writes the [C·KH·KW, OH·OW] column matrix of one C×H×W image;
	// out-of-image taps are zero.
	Im2col(x Buffer, g ConvGeom, col Buffer)
	// Col2im is Im2col's adjoint: it overwrites the C×H×W image x with the sum
	// of the column entries that read each pixel.
	Col2im(col Buffer, g ConvGeom, x Buffer)

	// ChannelMeanVar computes per-channel mean and biased variance of x
	// [N,C,HW] over N and HW (batch-norm statistics).
	ChannelMeanVar(x Buffer, n, c, hw int, mean, variance Buffer)
	// ChannelAffine computes y[n,c,i] = x[n,c,i]·scale[c] + shift[c]; y may be x.
	ChannelAffine(x Buffer, n, c, hw int, scale, shift Buffer, y Buffer)
	// ChannelAffineBackward computes, for y = x·scale[c] + shift[c],
	// dx = dy·scale[c], dscale[c] = Σ dy·x and dshift[c] = Σ dy. Any output may
	// be nil; x may be nil when dscale is.
	ChannelAffineBackward(x, dy Buffer, n, c, hw int, scale Buffer, dx, dscale, dshift Buffer)
	// BatchNormBackward is the training-mode batch-norm input gradient for
	// y = (x−mean[c])·invstd[c]·weight[c] + bias: with x̂ = (x−mean)·invstd,
	// dx = weight·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)) per channel, and it
	// writes dweight = Σ dy·x̂, dbias = Σ dy. dweight and dbias may be nil.
	BatchNormBackward(x, dy Buffer, n, c, hw int, mean, invstd, weight Buffer, dx, dweight, dbias Buffer)

	// MaxPool2d writes y [N,C,OH,OW] and, per output, the flat index (h·W+w)
	// of its maximum within its input plane; padding never wins. Ties go to
	// the first position in row-major window order.
	MaxPool2d(x Buffer, g PoolGeom, y Buffer, argmax IndexBuffer)
	// MaxPool2dBackward overwrites dx [N,C,H,W] with dy routed through argmax.
	MaxPool2dBackward(dy Buffer, argmax IndexBuffer, g PoolGeom, dx Buffer)
	// AvgPool2d averages each window counting padded zeros (PyTorch's
	// count_include_pad=True).
	AvgPool2d(x Buffer, g PoolGeom, y Buffer)
	// AvgPool2dBackward overwrites dx with AvgPool2d's adjoint.
	AvgPool2dBackward(dy Buffer, g PoolGeom, dx Buffer)
	// AdaptiveAvgPool2d averages x [N·C,H,W] into y [N·C,OH,OW] with PyTorch's
	// windows [floor(i·H/OH), ceil((i+1)·H/OH)).
	AdaptiveAvgPool2d(x Buffer, nc, h, w, oh, ow int, y Buffer)
	// AdaptiveAvgPool2dBackward overwrites dx with AdaptiveAvgPool2d's adjoint.
	AdaptiveAvgPool2dBackward(dy Buffer, nc, h, w, oh, ow int, dx Buffer)
	// UpsampleNearest repeats each pixel of x [N·C,H,W] scale×scale times
	// into y [N·C,H·scale,W·scale].
	UpsampleNearest(x Buffer, nc, h, w, scale int, y Buffer)
	// UpsampleNearestBackward overwrites dx [N·C,H,W] with the sum of each
	// pixel's scale×scale block of dy.
	UpsampleNearestBackward(dy Buffer, nc, h, w, scale int, dx Buffer)

	// Softmax computes row-wise softmax of x [rows, cols] into y.
	Softmax(x Buffer, rows, cols int, y Buffer)
	// SoftmaxBackward computes dx = y·(dy − Σ dy·y) row-wise.
	SoftmaxBackward(y, dy Buffer, rows, cols int, dx Buffer)
	// SoftmaxCrossEntropy computes, per row of logits [n, k], the softmax into
	// prob and loss[i] = −log prob[i, labels[i]]; rows whose label equals
	// ignoreIndex get loss 0. Labels outside [0, k) other than ignoreIndex panic
	// on the CPU and are undefined elsewhere.
	SoftmaxCrossEntropy(logits Buffer, labels IndexBuffer, n, k int, ignoreIndex int32, loss, prob Buffer)
	// SoftmaxCrossEntropyBackward computes dlogits[i,j] = dloss[i]·(prob[i,j] − [j == labels[i]])
	// and zero rows for ignored labels.
	SoftmaxCrossEntropyBackward(prob Buffer, labels IndexBuffer, dloss Buffer, n, k int, ignoreIndex int32, dlogits Buffer)

	// SigmoidFocalLoss overwrites loss [n] with the summed sigmoid focal loss
	// of each row of logits [n, k] (see the function SigmoidFocalLoss for the
	// labels' meaning); ignored rows (label < 0) get 0.
	SigmoidFocalLoss(logits Buffer, labels IndexBuffer, n, k int, gamma, alpha float32, loss Buffer)
	// SigmoidFocalLossBackward computes dlogits[i,j] = dloss[i]·∂loss[i]/∂logits[i,j],
	// zero rows for ignored labels. It reads the logits, not a buffer kept by
	// the forward pass.
	SigmoidFocalLossBackward(logits Buffer, labels IndexBuffer, dloss Buffer, n, k int, gamma, alpha float32, dlogits Buffer)

	// IndexSelect views src as [outer, dim, inner] and writes
	// dst[o, j, i] = src[o, idx[j], i] for j < idx.Len().
	IndexSelect(src Buffer, outer, dim, inner int, idx IndexBuffer, dst Buffer)
	// IndexAdd is IndexSelect's adjoint; it accumulates:
	// dst[o, idx[j], i] += src[o, j, i]. Repeated indices add up.
	IndexAdd(src Buffer, outer, dim, inner int, idx IndexBuffer, dst Buffer)
	// GatherRows writes dst[r, j] = src[r, idx[r, j]] for src [rows, cols]
	// and idx, dst [rows, k] (PyTorch's gather along the last dimension).
	GatherRows(src Buffer, rows, cols int, idx IndexBuffer, k int, dst Buffer)
	// ScatterAddRows is GatherRows' adjoint; it accumulates:
	// dst[r, idx[r, j]] += src[r, j].
	ScatterAddRows(src Buffer, rows, cols int, idx IndexBuffer, k int, dst Buffer)
	// SortRows writes, for each row of x [rows, cols], the column indices of
	// its k largest (descending) or smallest elements in order into idx
	// [rows, k]. The sort is stable: equal values keep ascending column order.
	// NaNs sort after every number in both directions.
	SortRows(x Buffer, rows, cols, k int, descending bool, idx IndexBuffer)
}

// SquareSummer is implemented by devices that return the sums of squares
// of many buffers with one wait for the results: on a GPU, one host
// synchronisation for a whole model's gradient norm instead of one per
// parameter. SumSquaresEach(bufs)[i] equals SumSquares(bufs[i]).
type SquareSummer interface {
	SumSquaresEach(bufs []Buffer) []float64
}
