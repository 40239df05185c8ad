package nn

import "github.com/detflow/detflow/tensor"

// ConvTranspose2dConfig describes a transposed conv layer. Zero Stride and
// Dilation mean 1.
type ConvTranspose2dConfig struct {
	In, Out       int
	Kernel        int
	Stride        int
	Padding       int
	OutputPadding int
	Dilation      int
	Bias          bool
}

// ConvTranspose2d is PyTorch's nn.ConvTranspose2d (groups=1): weight
// [In,Out,K,K], bias [Out]. FCNMaskHead's 2x upsampling is one (kernel 2,
// stride 2).
type ConvTranspose2d struct {
	Weight *tensor.Tensor
	Bias   *tensor.Tensor // nil without bias
	Opt    tensor.ConvTransposeOptions
}

// NewConvTranspose2d allocates a zero transposed conv layer on e;
// initialise it with the functions in init.go (PyTorch's fans of its
// weight are Out·K·K in and In·K·K out).
func NewConvTranspose2d(e *tensor.Engine, c ConvTranspose2dConfig) *ConvTranspose2d {
	if c.In <= 0 || c.Out <= 0 || c.Kernel <= 0 || c.Padding < 0 || c.OutputPadding < 0 {
		tensor.Panicf("nn: conv_transpose2d config %+v", c)
	}
	s, d := max(c.Stride, 1), max(c.Dilation, 1)
	l := &ConvTranspose2d{
		Weight: e.NewPersistent(c.In, c.Out, c.Kernel, c.Kernel).SetRequiresGrad(true),
		Opt: tensor.ConvTransposeOptions{
			ConvOptions: tensor.ConvOptions{
				Stride: [2]int{s, s}, Padding: [2]int{c.Padding, c.Padding}, Dilation: [2]int{d, d},
			},
			OutputPadding: [2]int{c.OutputPadding, c.OutputPadding},
		},
	}
	if c.Bias {
		l.Bias = e.NewPersistent(c.Out).SetRequiresGrad(true)
	}
	return l
}

// Forward implements Layer.
func (l *ConvTranspose2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.ConvTranspose2d(x, l.Weight, l.Bias, l.Opt)
}

// Params implements Module.
func (l *ConvTranspose2d) Params() []Named { return params("weight", l.Weight, "bias", l.Bias) }

// Buffers implements Module.
func (l *ConvTranspose2d) Buffers() []Named { return nil }

// Children implements Module.
func (l *ConvTranspose2d) Children() []Child { return nil }
