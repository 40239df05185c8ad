package tensor

// IgnoreIndex is PyTorch's default ignore_index: a label that adds no loss.
const IgnoreIndex int32 = -100

// SoftmaxCrossEntropy returns the per-sample loss [N] of logits [N,K] against
// labels [N]; rows labelled ignoreIndex get 0 and no gradient.
func SoftmaxCrossEntropy(logits *Tensor, labels *Index, ignoreIndex int32) *Tensor {
	e := logits.eng
	if len(logits.shape) != 2 || labels.Len() != logits.shape[0] {
		Panicf("tensor: cross entropy logits %v with labels %v", logits.shape, labels.shape)
	}
	n, k := logits.shape[0], logits.shape[1]
	loss := e.newLike([]int{n})
	prob := e.alloc(n * k)
	e.dev.SoftmaxCrossEntropy(logits.buf, labels.buf, n, k, ignoreIndex, loss.buf, prob)
	record(loss, []*Tensor{logits}, func(dy Buffer) []Buffer {
		dx := e.get(n * k)
		e.dev.SoftmaxCrossEntropyBackward(prob, labels.buf, dy, n, k, ignoreIndex, dx)
		return []Buffer{dx}
	})
	return loss
}

// CrossEntropyMean is the mean softmax cross-entropy over the rows whose
// label is not ignoreIndex, each weighted by weights [N] when not nil:
// Σ wᵢ·lossᵢ / #valid (0 when no row is valid). The valid count is read from
// the labels on the host.
func CrossEntropyMean(logits *Tensor, labels *Index, weights *Tensor, ignoreIndex int32) *Tensor {
	loss := SoftmaxCrossEntropy(logits, labels, ignoreIndex)
	if weights != nil {
		loss = Mul(loss, weights)
	}
	valid := 0
	for _, l := range labels.Data() {
		if l != ignoreIndex {
			valid++
		}
	}
	return Scale(Sum(loss), 1/float32(max(valid, 1)))
}

// BCEWithLogits is the elementwise sigmoid binary cross-entropy of logits
// against targets in [0,1] (same shape); targets receive no gradient.
func BCEWithLogits(logits, targets *Tensor) *Tensor {
	if targets.Len() != logits.Len() {
		Panicf("tensor: bce logits %v with targets %v", logits.shape, targets.shape)
	}
	return binary(logits, targets.Detach().reshaped(logits.shape), BinaryBCEWithLogits)
}

// reshaped views t with another shape outside the graph.
func (t *Tensor) reshaped(shape []int) *Tensor {
	return &Tensor{eng: t.eng, shape: shape, buf: t.buf, persistent: t.persistent}
}

// SmoothL1Loss is the elementwise smooth-L1 loss of pred − target with
// MMDetection's beta: 0.5·d²/beta when |d| < beta, else |d| − 0.5·beta.
// beta == 0 is the L1 loss.
func SmoothL1Loss(pred, target *Tensor, beta float32) *Tensor {
	if beta < 0 {
		Panicf("tensor: smooth L1 beta %g < 0", beta)
	}
	return unary(Sub(pred, target), UnarySmoothL1, beta)
}

// L1Loss is the elementwise |pred − target|.
func L1Loss(pred, target *Tensor) *Tensor { return Abs(Sub(pred, target)) }

// Softmax is the row-wise softmax of x [R,C].
func Softmax(x *Tensor) *Tensor {
	e := x.eng
	if len(x.shape) != 2 {
		Panicf("tensor: softmax of %v", x.shape)
	}
	rows, cols := x.shape[0], x.shape[1]
	y := e.newLike(x.shape)
	e.dev.Softmax(x.buf, rows, cols, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.SoftmaxBackward(y.buf, dy, rows, cols, dx)
		return []Buffer{dx}
	})
	return y
}
