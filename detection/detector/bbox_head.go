package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// BBoxHeadOptions configures the Shared2FC box head.
type BBoxHeadOptions struct {
	// InChannels of the pooled features (the FPN's out channels).
	InChannels int
	// RoISize is the pooled side; default 7.
	RoISize int
	// NumSharedFCs; default 2.
	NumSharedFCs int
	// FCChannels is the width of the shared FCs; default 1024.
	FCChannels int
	// NumClasses K, background not counted (> 0).
	NumClasses int
	// RegClassAgnostic predicts one box per RoI instead of one per class.
	RegClassAgnostic bool
}

func (o BBoxHeadOptions) withDefaults() BBoxHeadOptions {
	if o.RoISize == 0 {
		o.RoISize = 7
	}
	if o.NumSharedFCs == 0 {
		o.NumSharedFCs = 2
	}
	if o.FCChannels == 0 {
		o.FCChannels = 1024
	}
	return o
}

// BBoxHead is MMDetection's Shared2FCBBoxHead: flatten, shared FCs with
// ReLU, then a classifier over K+1 classes (background last) and a box
// regressor with 4K (or 4) outputs.
type BBoxHead struct {
	SharedFCs []*nn.Linear
	FCCls     *nn.Linear
	FCReg     *nn.Linear
	opt       BBoxHeadOptions
}

// NewBBoxHead builds the head with MMDetection's initialisation: Xavier
// uniform shared FCs, classifier N(0, 0.01²), regressor N(0, 0.001²), zero
// biases.
func NewBBoxHead(e *tensor.Engine, opt BBoxHeadOptions, rng *rand.Rand) (*BBoxHead, error) {
	opt = opt.withDefaults()
	if opt.InChannels <= 0 || opt.NumClasses <= 0 {
		return nil, fmt.Errorf("bbox head: %d input channels, %d classes: both must be > 0", opt.InChannels, opt.NumClasses)
	}
	h := &BBoxHead{opt: opt}
	in := opt.InChannels * opt.RoISize * opt.RoISize
	for i := 0; i < opt.NumSharedFCs; i++ {
		fc := nn.NewLinear(e, in, opt.FCChannels, true)
		nn.XavierUniform(fc.Weight, rng, 1)
		h.SharedFCs = append(h.SharedFCs, fc)
		in = opt.FCChannels
	}
	h.FCCls = nn.NewLinear(e, in, opt.NumClasses+1, true)
	nn.Normal(h.FCCls.Weight, rng, 0, 0.01)
	h.FCReg = nn.NewLinear(e, in, 4*h.numRegClasses(), true)
	nn.Normal(h.FCReg.Weight, rng, 0, 0.001)
	return h, nil
}

// numRegClasses is the number of 4-delta groups the regressor predicts.
func (h *BBoxHead) numRegClasses() int {
	if h.opt.RegClassAgnostic {
		return 1
	}
	return h.opt.NumClasses
}

// Forward maps pooled features [R,C,S,S] to class logits [R,K+1] and box
// deltas [R,4K] (or [R,4]).
func (h *BBoxHead) Forward(x *tensor.Tensor) (cls, reg *tensor.Tensor) {
	x = tensor.Flatten(x)
	for _, fc := range h.SharedFCs {
		x = tensor.Relu(fc.Forward(x))
	}
	return h.FCCls.Forward(x), h.FCReg.Forward(x)
}

// Params implements nn.Module.
func (h *BBoxHead) Params() []nn.Named { return nil }

// Buffers implements nn.Module.
func (h *BBoxHead) Buffers() []nn.Named { return nil }

// Children implements nn.Module with MMDetection's names.
func (h *BBoxHead) Children() []nn.Child {
	var out []nn.Child
	for i, fc := range h.SharedFCs {
		out = append(out, nn.Child{Name: fmt.Sprintf("shared_fcs.%d", i), Module: fc})
	}
	return append(out, nn.Child{Name: "fc_cls", Module: h.FCCls}, nn.Child{Name: "fc_reg", Module: h.FCReg})
}
