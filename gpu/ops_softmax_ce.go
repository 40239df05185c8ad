package gpu

import "fmt"

// Typed launchers for gpu/kernels/softmax_ce.cu.

// SoftmaxCEFwd writes per-row losses and the softmax probabilities of
// N×K logits; labels are int32 (ignoreIndex rows get loss 0); weight may be
// 0 (all ones).
func (d *Device) SoftmaxCEFwd(loss, prob, logits, labels, weight DevPtr, n, k, ignoreIndex int) error {
	if k <= 0 {
		return fmt.Errorf("softmax cross-entropy: %d classes", k)
	}
	return d.launch1D(kSoftmaxCEFwd, n, loss, prob, logits, labels, weight, i32(n), i32(k), i32(ignoreIndex))
}

// SoftmaxCEBwd overwrites dlogits = scale*weight*(prob - onehot(label)).
func (d *Device) SoftmaxCEBwd(dlogits, prob, labels, weight DevPtr, n, k, ignoreIndex int, scale float32) error {
	return d.launch1D(kSoftmaxCEBwd, n*k, dlogits, prob, labels, weight, i32(n), i32(k), i32(ignoreIndex), scale)
}
