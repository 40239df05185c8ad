package detector

import (
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// drop hands activations whose last use has passed back to the engine's
// pool when grad mode is off (inference, and the frozen stages of a
// backbone), where no backward pass has saved them: PyTorch frees such
// tensors when their last reference goes, and without this a forward pass
// on large images would hold every activation until the step's Release.
// With grad mode on it does nothing, as autograd may have saved them.
func drop(ts ...*tensor.Tensor) {
	for _, t := range ts {
		if t != nil && !t.Engine().GradEnabled() {
			t.Engine().Free(t)
		}
	}
}

// forwardDropping runs a Sequential, dropping each layer's input after the
// next layer has used it (never x itself, which the caller owns).
func forwardDropping(s *nn.Sequential, x *tensor.Tensor) *tensor.Tensor {
	y := x
	for _, l := range s.Layers {
		next := l.Forward(y)
		if y != x {
			drop(y)
		}
		y = next
	}
	return y
}
