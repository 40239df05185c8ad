package tensor

// SigmoidFocalLoss is the sigmoid focal loss of RetinaNet (Lin et al. 2017;
// torchvision.ops.sigmoid_focal_loss) of logits [N,K], summed over each
// row's K classes: loss [N]. Label lᵢ in [0,K) makes column lᵢ the row's one
// positive target, any label >= K (background) makes every target 0, and a
// negative label (ignored) gives 0 loss and no gradient. Per element, with
// p = sigmoid(x), pₜ = p or 1−p and αₜ = alpha or 1−alpha for target 1 or 0:
// −αₜ·(1−pₜ)^gamma·log pₜ; alpha < 0 drops αₜ, as torchvision.
//
// The backward pass recomputes the element derivatives from the logits
// (Device.SigmoidFocalLossBackward), so nothing of size N·K is kept between
// the passes beyond the logits themselves.
func SigmoidFocalLoss(logits *Tensor, labels *Index, gamma, alpha float32) *Tensor {
	e := logits.eng
	if len(logits.shape) != 2 || labels.Len() != logits.shape[0] {
		Panicf("tensor: focal loss logits %v with labels %v", logits.shape, labels.shape)
	}
	if !(gamma >= 0) {
		Panicf("tensor: focal loss gamma %g, want >= 0", gamma)
	}
	n, k := logits.shape[0], logits.shape[1]
	loss := e.newLike([]int{n})
	e.dev.SigmoidFocalLoss(logits.buf, labels.buf, n, k, gamma, alpha, loss.buf)
	record(loss, []*Tensor{logits}, func(dy Buffer) []Buffer {
		dx := e.get(n * k)
		e.dev.SigmoidFocalLossBackward(logits.buf, labels.buf, dy, n, k, gamma, alpha, dx)
		return []Buffer{dx}
	})
	return loss
}
