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
	// max-pools (kernel 1, stride 2) of the last one (P6). Default 5.
	NumOuts int
}

// FPN is MMDetection's FPN without extra convs: 1x1 lateral convs, a
// top-down pathway adding each coarser level upsampled x2 (nearest), 3x3
// output convs, and P6 as a stride-2 subsampling of P5.
type FPN struct {
	Lateral []*nn.Conv2d
	Output  []*nn.Conv2d
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
	f := &FPN{opt: opt}
	for _, c := range opt.InChannels {
		f.Lateral = append(f.Lateral, newXavierConv(e, rng, c, opt.OutChannels, 1, 0))
		f.Output = append(f.Output, newXavierConv(e, rng, opt.OutChannels, opt.OutChannels, 3, 1))
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
	for len(outs) < f.opt.NumOuts {
		outs = append(outs, tensor.MaxPool2d(outs[len(outs)-1], 1, 2, 0))
	}
	return outs, nil
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
	for i, c := range f.Output {
		out = append(out, nn.Child{Name: fmt.Sprintf("fpn_convs.%d.conv", i), Module: c})
	}
	return out
}
