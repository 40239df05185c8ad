package nn

import (
	"github.com/detflow/detflow/tensor"
)

// Conv2dConfig describes a conv layer. Zero Stride and Dilation mean 1.
type Conv2dConfig struct {
	In, Out  int
	Kernel   int // square kernel; KernelHW overrides it when set
	KernelHW [2]int
	Stride   int
	Padding  int
	Dilation int
	Bias     bool
}

// Conv2d is PyTorch's nn.Conv2d (groups=1): weight [Out,In,KH,KW], bias [Out].
type Conv2d struct {
	Weight *tensor.Tensor
	Bias   *tensor.Tensor // nil without bias
	Opt    tensor.ConvOptions
}

// NewConv2d allocates a zero conv layer on e; initialise it with the
// functions in init.go.
func NewConv2d(e *tensor.Engine, c Conv2dConfig) *Conv2d {
	kh, kw := c.Kernel, c.Kernel
	if c.KernelHW != [2]int{} {
		kh, kw = c.KernelHW[0], c.KernelHW[1]
	}
	if c.In <= 0 || c.Out <= 0 || kh <= 0 || kw <= 0 {
		tensor.Panicf("nn: conv2d config %+v", c)
	}
	s, d := max(c.Stride, 1), max(c.Dilation, 1)
	l := &Conv2d{
		Weight: e.NewPersistent(c.Out, c.In, kh, kw).SetRequiresGrad(true),
		Opt: tensor.ConvOptions{
			Stride: [2]int{s, s}, Padding: [2]int{c.Padding, c.Padding}, Dilation: [2]int{d, d},
		},
	}
	if c.Bias {
		l.Bias = e.NewPersistent(c.Out).SetRequiresGrad(true)
	}
	return l
}

// Forward implements Layer.
func (l *Conv2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Conv2d(x, l.Weight, l.Bias, l.Opt)
}

// Params implements Module.
func (l *Conv2d) Params() []Named { return params("weight", l.Weight, "bias", l.Bias) }

// Buffers implements Module.
func (l *Conv2d) Buffers() []Named { return nil }

// Children implements Module.
func (l *Conv2d) Children() []Child { return nil }

// Linear is PyTorch's nn.Linear: weight [Out,In], bias [Out].
type Linear struct {
	Weight *tensor.Tensor
	Bias   *tensor.Tensor
}

// NewLinear allocates a zero linear layer on e.
func NewLinear(e *tensor.Engine, in, out int, bias bool) *Linear {
	l := &Linear{Weight: e.NewPersistent(out, in).SetRequiresGrad(true)}
	if bias {
		l.Bias = e.NewPersistent(out).SetRequiresGrad(true)
	}
	return l
}

// Forward implements Layer; x is [N,In], or [N,...] flattened to [N,In].
func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 2 {
		x = tensor.Flatten(x)
	}
	return tensor.Linear(x, l.Weight, l.Bias)
}

// Params implements Module.
func (l *Linear) Params() []Named { return params("weight", l.Weight, "bias", l.Bias) }

// Buffers implements Module.
func (l *Linear) Buffers() []Named { return nil }

// Children implements Module.
func (l *Linear) Children() []Child { return nil }
