package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// FPNOptions configures the feature pyramid.
type FPNOptions struct {
	// InChannels are the channels of the backbone levels fed in (C2..C5).
	InChannels []int
	// OutChannels of every pyramid level; default 256.
	OutChannels int
	// NumOuts is the number of levels out; those beyond the inputs are
	// max-pools (kernel 1, stride 2) of the last one (P6), or stride-2 3x3
	// convs with ExtraConvs. Default 5.
	NumOuts int
	// ExtraConvs makes the extra levels stride-2 3x3 convs: the first on
	// the last input (ExtraOnInput: MMDetection's RetinaNet, P6 from C5) or
	// on the last output (ExtraOnOutput: torchvision's, P6 from P5), each
	// further one on the level before. "" keeps max-pools.
	ExtraConvs string
	// ReluBeforeExtra applies a ReLU before every extra conv but the first
	// (torchvision's LastLevelP6P7: P7 = conv(relu(P6)); MMDetection's
	// relu_before_extra_convs, off in its RetinaNet configs).
	ReluBeforeExtra bool
}

// The values of FPNOptions.ExtraConvs (MMDetection v2's add_extra_convs).
const (
	ExtraOnInput  = "on_input"
	ExtraOnOutput = "on_output"
)

// FPN is MMDetection's FPN without extra convs: 1x1 lateral convs, a
// top-down pathway adding each coarser level upsampled x2 (nearest), 3x3
// output convs, and P6 as a stride-2 subsampling of P5.
type FPN struct {
	Lateral []*nn.Conv2d
	Output  []*nn.Conv2d
	Extra   []*nn.Conv2d // the stride-2 convs of ExtraConvs
	opt     FPNOptions
}

// NewFPN builds an FPN with MMDetection's Xavier-uniform initialisation.
func NewFPN(e *tensor.Engine, opt FPNOptions, rng *rand.Rand) (*FPN, error) {
	if opt.OutChannels == 0 {
		opt.OutChannels = 256
	}
	if opt.NumOuts == 0 {
		opt.NumOuts = 5
	}
	if len(opt.InChannels) == 0 || opt.NumOuts < len(opt.InChannels) {
		return nil, fmt.Errorf("fpn: %d outputs for %d inputs", opt.NumOuts, len(opt.InChannels))
	}
	if opt.ExtraConvs != "" && opt.ExtraConvs != ExtraOnInput && opt.ExtraConvs != ExtraOnOutput {
		return nil, fmt.Errorf("fpn: extra convs %q: want %q, %q or none", opt.ExtraConvs, ExtraOnInput, ExtraOnOutput)
	}
	f := &FPN{opt: opt}
	for _, c := range opt.InChannels {
		f.Lateral = append(f.Lateral, newXavierConv(e, rng, c, opt.OutChannels, 1, 0))
		f.Output = append(f.Output, newXavierConv(e, rng, opt.OutChannels, opt.OutChannels, 3, 1))
	}
	if opt.ExtraConvs == "" {
		return f, nil
	}
	for i := len(opt.InChannels); i < opt.NumOuts; i++ {
		in := opt.OutChannels
		if i == len(opt.InChannels) && opt.ExtraConvs == ExtraOnInput {
			in = opt.InChannels[len(opt.InChannels)-1]
		}
		c := nn.NewConv2d(e, nn.Conv2dConfig{In: in, Out: opt.OutChannels, Kernel: 3, Stride: 2, Padding: 1, Bias: true})
		nn.XavierUniform(c.Weight, rng, 1)
		f.Extra = append(f.Extra, c)
	}
	return f, nil
}

func newXavierConv(e *tensor.Engine, rng *rand.Rand, in, out, k, pad int) *nn.Conv2d {
	c := nn.NewConv2d(e, nn.Conv2dConfig{In: in, Out: out, Kernel: k, Padding: pad, Bias: true})
	nn.XavierUniform(c.Weight, rng, 1)
	return c
}

// Forward maps backbone levels (finest first) to NumOuts pyramid levels.
// Each level must be exactly twice the size of the next coarser one, which
// images padded to a multiple of 32 guarantee.
func (f *FPN) Forward(feats []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(feats) != len(f.Lateral) {
		return nil, fmt.Errorf("fpn: %d inputs, built for %d", len(feats), len(f.Lateral))
	}
	n := len(feats)
	lat := make([]*tensor.Tensor, n)
	for i, x := range feats {
		lat[i] = f.Lateral[i].Forward(x)
	}
	for i := n - 1; i > 0; i-- {
		fine, coarse := lat[i-1], lat[i]
		if fine.Dim(2) != 2*coarse.Dim(2) || fine.Dim(3) != 2*coarse.Dim(3) {
			return nil, fmt.Errorf("fpn: level %d is %dx%d, level %d is %dx%d: pad images to a multiple of 32",
				i-1, fine.Dim(2), fine.Dim(3), i, coarse.Dim(2), coarse.Dim(3))
		}
		// fine is a lateral convolution's output, which no backward reads:
		// the sum goes over it.
		up := tensor.UpsampleNearest(coarse, 2)
		lat[i-1] = tensor.AddInPlace(fine, up)
		drop(up, fine)
	}
	outs := make([]*tensor.Tensor, 0, f.opt.NumOuts)
	for i := range lat {
		outs = append(outs, f.Output[i].Forward(lat[i]))
		drop(lat[i])
	}
	if f.opt.ExtraConvs != "" {
		return f.extraLevels(feats[n-1], outs), nil
	}
	for len(outs) < f.opt.NumOuts {
		outs = append(outs, tensor.MaxPool2d(outs[len(outs)-1], 1, 2, 0))
	}
	return outs, nil
}

// extraLevels appends the ExtraConvs levels (P6, P7) to outs; last is the
// last backbone input.
func (f *FPN) extraLevels(last *tensor.Tensor, outs []*tensor.Tensor) []*tensor.Tensor {
	for i, c := range f.Extra {
		x := outs[len(outs)-1]
		switch {
		case i == 0 && f.opt.ExtraConvs == ExtraOnInput:
			x = last
		case i > 0 && f.opt.ReluBeforeExtra:
			x = tensor.Relu(x)
		}
		outs = append(outs, c.Forward(x))
	}
	return outs
}

// Params implements nn.Module.
func (f *FPN) Params() []nn.Named { return nil }

// Buffers implements nn.Module.
func (f *FPN) Buffers() []nn.Named { return nil }

// Children implements nn.Module with MMDetection's names
// (lateral_convs.i.conv, fpn_convs.i.conv).
func (f *FPN) Children() []nn.Child {
	var out []nn.Child
	for i, c := range f.Lateral {
		out = append(out, nn.Child{Name: fmt.Sprintf("lateral_convs.%d.conv", i), Module: c})
	}
	for i, c := range append(f.Output[:len(f.Output):len(f.Output)], f.Extra...) {
		out = append(out, nn.Child{Name: fmt.Sprintf("fpn_convs.%d.conv", i), Module: c})
	}
	return out
}
