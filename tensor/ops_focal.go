package tensor

// FocalLossDevice is implemented by devices with a fused sigmoid focal loss
// kernel. SigmoidFocalLoss reads logits [n,k] and labels [n] (see the
// function SigmoidFocalLoss for their meaning) and overwrites loss [n] with
// each row's summed loss and grad [n,k] with ∂loss[i]/∂logits[i,j]: the
// gradient comes out of the forward pass because it shares its exp and log,
// and the backward is then one broadcast multiply.
type FocalLossDevice interface {
	SigmoidFocalLoss(logits Buffer, labels IndexBuffer, n, k int, gamma, alpha float32, loss, grad Buffer)
}

// SigmoidFocalLoss is the sigmoid focal loss of RetinaNet (Lin et al. 2017;
// torchvision.ops.sigmoid_focal_loss) of logits [N,K], summed over each
// row's K classes: loss [N]. Label lᵢ in [0,K) makes column lᵢ the row's one
// positive target, any label >= K (background) makes every target 0, and a
// negative label (ignored) gives 0 loss and no gradient. Per element, with
// p = sigmoid(x), pₜ = p or 1−p and αₜ = alpha or 1−alpha for target 1 or 0:
// −αₜ·(1−pₜ)^gamma·log pₜ; alpha < 0 drops αₜ, as torchvision.
//
// A device implementing FocalLossDevice computes it in place; any other
// runs the CPU kernel on host copies.
func SigmoidFocalLoss(logits *Tensor, labels *Index, gamma, alpha float32) *Tensor {
	e := logits.eng
	if len(logits.shape) != 2 || labels.Len() != logits.shape[0] {
		Panicf("tensor: focal loss logits %v with labels %v", logits.shape, labels.shape)
	}
	if gamma < 0 {
		Panicf("tensor: focal loss gamma %g < 0", gamma)
	}
	n, k := logits.shape[0], logits.shape[1]
	loss := e.newLike([]int{n})
	grad := e.alloc(n * k)
	focalForward(e, logits.buf, labels.buf, n, k, gamma, alpha, loss.buf, grad)
	record(loss, []*Tensor{logits}, func(dy Buffer) []Buffer {
		dx := e.get(n * k)
		// dx[i,j] = dy[i]·grad[i,j]
		e.dev.BroadcastBinary(BinaryMul, []int{n, k}, grad, []int{k, 1}, dy, []int{1, 0}, dx)
		return []Buffer{dx}
	})
	return loss
}

func focalForward(e *Engine, logits Buffer, labels IndexBuffer, n, k int, gamma, alpha float32, loss, grad Buffer) {
	if fd, ok := e.dev.(FocalLossDevice); ok {
		fd.SigmoidFocalLoss(logits, labels, n, k, gamma, alpha, loss, grad)
		return
	}
	cpu := NewCPU(0)
	hx, hl, hg := cpu.Alloc(n*k), cpu.AllocIndex(n), cpu.Alloc(n*k)
	hloss := cpu.Alloc(n)
	e.dev.Download(CPUData(hx), logits)
	e.dev.DownloadIndex(CPUIndexData(hl), labels)
	cpu.SigmoidFocalLoss(hx, hl, n, k, gamma, alpha, hloss, hg)
	e.dev.Upload(loss, CPUData(hloss))
	e.dev.Upload(grad, CPUData(hg))
}
