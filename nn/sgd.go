package nn

import (
	"fmt"
	"math"

	"github.com/detflow/detflow/tensor"
)

// SGD is stochastic gradient descent with momentum and weight decay, with
// PyTorch's semantics (dampening 0, no Nesterov):
//
//	d_p = grad + WeightDecay·p
//	buf = Momentum·buf + d_p      (buf = d_p on a parameter's first step)
//	p   = p − LR·buf
//
// Momentum buffers live on the parameters' device and are created lazily,
// so only parameters that ever had a gradient have one (as in PyTorch).
type SGD struct {
	LR, Momentum, WeightDecay float32
	params                    []Named
	bufs                      map[string]*tensor.Tensor
}

// NewSGD returns an optimizer over params (usually TrainableParameters).
func NewSGD(params []Named, lr, momentum, weightDecay float32) *SGD {
	return &SGD{LR: lr, Momentum: momentum, WeightDecay: weightDecay, params: params, bufs: map[string]*tensor.Tensor{}}
}

// Step applies one update to every parameter that has a gradient.
func (o *SGD) Step() {
	for _, p := range o.params {
		g := p.Tensor.Grad()
		if g == nil {
			continue
		}
		dev := p.Tensor.Engine().Device()
		pb := p.Tensor.Buffer()
		if o.Momentum == 0 {
			// p −= LR·(g + wd·p), as p·(1 − LR·wd) − LR·g; the gradient
			// itself is left untouched.
			if o.WeightDecay != 0 {
				dev.Unary(tensor.UnaryScale, 1-o.LR*o.WeightDecay, pb, pb)
			}
			dev.Axpby(-o.LR, g.Buffer(), 1, pb)
			continue
		}
		buf, ok := o.bufs[p.Name]
		if !ok {
			buf = p.Tensor.Engine().NewPersistent(p.Tensor.Shape()...)
			o.bufs[p.Name] = buf
		}
		// buf = m·buf + g + wd·p; a new buffer is zero, so the first step
		// gives buf = d_p as PyTorch does.
		dev.Axpby(1, g.Buffer(), o.Momentum, buf.Buffer())
		if o.WeightDecay != 0 {
			dev.Axpby(o.WeightDecay, pb, 1, buf.Buffer())
		}
		dev.Axpby(-o.LR, buf.Buffer(), 1, pb)
	}
}

// StateDict returns the momentum buffers keyed "momentum_buffer.<param>"
// (the tensors themselves; copy to host to save).
func (o *SGD) StateDict() map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for name, b := range o.bufs {
		out["momentum_buffer."+name] = b
	}
	return out
}

// LoadStateDict restores momentum buffers saved by StateDict. Keys for
// unknown parameters or of the wrong size are errors.
func (o *SGD) LoadStateDict(sd map[string]HostTensor) error {
	byName := map[string]*tensor.Tensor{}
	for _, p := range o.params {
		byName[p.Name] = p.Tensor
	}
	for _, k := range sortedKeys(sd) {
		name, ok := cutPrefix(k, "momentum_buffer.")
		if !ok {
			return fmt.Errorf("load optimizer state: unexpected key %q", k)
		}
		p, ok := byName[name]
		if !ok {
			return fmt.Errorf("load optimizer state: %q names no optimized parameter", k)
		}
		if len(sd[k].Data) != p.Len() {
			return fmt.Errorf("load optimizer state: %q has %d values, parameter has %d", k, len(sd[k].Data), p.Len())
		}
	}
	for k, v := range sd {
		name, _ := cutPrefix(k, "momentum_buffer.")
		buf, ok := o.bufs[name]
		if !ok {
			buf = byName[name].Engine().NewPersistent(byName[name].Shape()...)
			o.bufs[name] = buf
		}
		buf.CopyFrom(v.Data)
	}
	return nil
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || s[:len(prefix)] != prefix {
		return s, false
	}
	return s[len(prefix):], true
}

// ClipGradNorm scales all gradients of params down so their global L2 norm
// is at most maxNorm, and returns the norm before clipping (PyTorch's
// clip_grad_norm_ with norm_type 2: coefficient maxNorm/(norm+1e-6), applied
// only when below 1).
func ClipGradNorm(params []Named, maxNorm float64) float64 {
	var ss float64
	for _, v := range gradSquares(params) {
		ss += v
	}
	norm := math.Sqrt(ss)
	coef := maxNorm / (norm + 1e-6)
	if coef >= 1 {
		return norm
	}
	for _, p := range params {
		if g := p.Tensor.Grad(); g != nil {
			p.Tensor.Engine().Device().Unary(tensor.UnaryScale, float32(coef), g.Buffer(), g.Buffer())
		}
	}
	return norm
}

// gradSquares returns the sum of squares of each gradient of params, in
// order, asking a device that implements tensor.SquareSummer for all of
// its gradients at once.
func gradSquares(params []Named) []float64 {
	var out []float64
	var run []tensor.Buffer // consecutive gradients on one device
	var dev tensor.Device
	flush := func() {
		if len(run) == 0 {
			return
		}
		if s, ok := dev.(tensor.SquareSummer); ok {
			out = append(out, s.SumSquaresEach(run)...)
		} else {
			for _, b := range run {
				out = append(out, dev.SumSquares(b))
			}
		}
		run = run[:0]
	}
	for _, p := range params {
		g := p.Tensor.Grad()
		if g == nil {
			continue
		}
		if d := p.Tensor.Engine().Device(); d != dev {
			flush()
			dev = d
		}
		run = append(run, g.Buffer())
	}
	flush()
	return out
}
