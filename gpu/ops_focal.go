package gpu

import "fmt"

// Typed launchers for gpu/kernels/focal.cu.

// SigmoidFocalFwd overwrites loss [n] with each row's summed sigmoid focal
// loss of logits [n,k] and int32 labels [n] (label < 0 ignored, >= k
// background).
func (d *Device) SigmoidFocalFwd(loss, logits, labels DevPtr, n, k int, gamma, alpha float32) error {
	if err := checkFocal(k, gamma); err != nil {
		return err
	}
	return d.launch1D(kFocalFwd, n, loss, logits, labels, i32(n), i32(k), gamma, alpha)
}

// SigmoidFocalBwd overwrites dlogits [n,k] with dloss[i] times the
// derivative of element (i,j) of the focal loss in its logit.
func (d *Device) SigmoidFocalBwd(dlogits, logits, labels, dloss DevPtr, n, k int, gamma, alpha float32) error {
	if err := checkFocal(k, gamma); err != nil {
		return err
	}
	return d.launch1D(kFocalBwd, n*k, dlogits, logits, labels, dloss, i32(n), i32(k), gamma, alpha)
}

func checkFocal(k int, gamma float32) error {
	if k <= 0 {
		return fmt.Errorf("sigmoid focal loss: %d classes", k)
	}
	if !(gamma >= 0) {
		return fmt.Errorf("sigmoid focal loss: gamma %g, want >= 0", gamma)
	}
	return nil
}
