package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// ResNet styles: where a downsampling bottleneck puts its stride.
const (
	StylePyTorch = "pytorch" // stride in the 3x3 conv (torchvision, MMDetection "pytorch")
	StyleCaffe   = "caffe"   // stride in the first 1x1 conv (MSRA / Detectron)
)

// ResNetOptions configures a ResNet backbone. The zero value of a field
// means its documented default.
type ResNetOptions struct {
	// Depth is 18 or 34 (basic blocks) or 50 or 101 (bottlenecks); default 50.
	Depth int
	// Style is StylePyTorch (default) or StyleCaffe.
	Style string
	// BaseChannels is the stem width, 64 (default) for the standard ResNet;
	// stage i has BaseChannels·2^i planes.
	BaseChannels int
	// FrozenStages: -1 nothing frozen, 0 the stem, k the stem and stages
	// 1..k. Frozen parts have requires_grad off and their BN in eval mode.
	// The zero value freezes the stem: set -1 explicitly for none.
	FrozenStages int
	// NormEval keeps every BN in eval mode (running statistics), as
	// MMDetection's norm_eval for ImageNet-pretrained weights.
	NormEval bool
	// FixNormAffine turns requires_grad off for every BN's weight and bias
	// (MMDetection norm_cfg.requires_grad false).
	FixNormAffine bool
	// ZeroInitResidual starts the last BN of each block at gamma 0, so each
	// block starts as the identity (helps training from scratch).
	ZeroInitResidual bool
}

func (o ResNetOptions) withDefaults() ResNetOptions {
	if o.Depth == 0 {
		o.Depth = 50
	}
	if o.Style == "" {
		o.Style = StylePyTorch
	}
	if o.BaseChannels == 0 {
		o.BaseChannels = 64
	}
	return o
}

// resnetLayers gives the blocks per stage and whether blocks are bottlenecks.
func resnetLayers(depth int) ([4]int, bool, error) {
	switch depth {
	case 18:
		return [4]int{2, 2, 2, 2}, false, nil
	case 34:
		return [4]int{3, 4, 6, 3}, false, nil
	case 50:
		return [4]int{3, 4, 6, 3}, true, nil
	case 101:
		return [4]int{3, 4, 23, 3}, true, nil
	}
	return [4]int{}, false, fmt.Errorf("resnet depth %d: want 18, 34, 50 or 101", depth)
}

// ResNet is a torchvision-layout ResNet without its classifier: conv1, bn1,
// max-pool, layer1..layer4. Forward returns C2..C5.
type ResNet struct {
	Conv1  *nn.Conv2d
	BN1    *nn.BatchNorm2d
	Layers [4]*nn.Sequential
	// OutChannels are the channels of C2..C5.
	OutChannels [4]int
	opt         ResNetOptions
}

// NewResNet builds a ResNet with torchvision's initialisation (Kaiming
// normal, fan_out, for convs; BN weight 1, bias 0) drawn from rng.
func NewResNet(e *tensor.Engine, opt ResNetOptions, rng *rand.Rand) (*ResNet, error) {
	opt = opt.withDefaults()
	blocks, bottleneck, err := resnetLayers(opt.Depth)
	if err != nil {
		return nil, err
	}
	if opt.Style != StylePyTorch && opt.Style != StyleCaffe {
		return nil, fmt.Errorf("resnet style %q: want %q or %q", opt.Style, StylePyTorch, StyleCaffe)
	}
	if opt.FrozenStages < -1 || opt.FrozenStages > 4 {
		return nil, fmt.Errorf("resnet frozen stages %d: want -1..4", opt.FrozenStages)
	}
	if opt.BaseChannels < 1 {
		return nil, fmt.Errorf("resnet base channels %d: want > 0", opt.BaseChannels)
	}
	r := &ResNet{opt: opt}
	r.Conv1 = newConv(e, rng, 3, opt.BaseChannels, 7, 2, 3)
	r.BN1 = nn.NewBatchNorm2d(e, opt.BaseChannels)
	expansion := 1
	if bottleneck {
		expansion = 4
	}
	in := opt.BaseChannels
	for s := 0; s < 4; s++ {
		planes := opt.BaseChannels << s
		stride := 1
		if s > 0 {
			stride = 2
		}
		var layers []nn.Layer
		for b := 0; b < blocks[s]; b++ {
			st := stride
			if b > 0 {
				st = 1
			}
			var blk *resBlock
			if bottleneck {
				blk = newBottleneck(e, rng, in, planes, st, opt)
			} else {
				blk = newBasicBlock(e, rng, in, planes, st, opt)
			}
			layers = append(layers, blk)
			in = planes * expansion
		}
		r.Layers[s] = nn.NewSequential(layers...)
		r.OutChannels[s] = in
	}
	r.applyFreezing()
	return r, nil
}

// newConv is a bias-free conv with torchvision's ResNet initialisation.
func newConv(e *tensor.Engine, rng *rand.Rand, in, out, k, stride, pad int) *nn.Conv2d {
	c := nn.NewConv2d(e, nn.Conv2dConfig{In: in, Out: out, Kernel: k, Stride: stride, Padding: pad})
	nn.KaimingNormal(c.Weight, rng, nn.FanOut)
	return c
}

// applyFreezing implements FrozenStages, NormEval and FixNormAffine.
func (r *ResNet) applyFreezing() {
	frozen := func(m nn.Module) {
		nn.Freeze(m)
		freezeBN(m)
	}
	if r.opt.FrozenStages >= 0 {
		frozen(r.Conv1)
		frozen(r.BN1)
	}
	for s := 1; s <= r.opt.FrozenStages; s++ {
		frozen(r.Layers[s-1])
	}
	if r.opt.NormEval {
		freezeBN(r)
	}
	if r.opt.FixNormAffine {
		walkBN(r, func(b *nn.BatchNorm2d) {
			b.Weight.SetRequiresGrad(false)
			b.Bias.SetRequiresGrad(false)
		})
	}
}

// freezeBN keeps every BN under m in eval mode.
func freezeBN(m nn.Module) { walkBN(m, func(b *nn.BatchNorm2d) { b.Frozen = true }) }

func walkBN(m nn.Module, fn func(*nn.BatchNorm2d)) {
	if b, ok := m.(*nn.BatchNorm2d); ok {
		fn(b)
	}
	for _, c := range m.Children() {
		walkBN(c.Module, fn)
	}
}

// Forward returns C2..C5 for images x [B,3,H,W]. The frozen stages (the
// stem and layers 1..FrozenStages, a prefix) run without recording a graph,
// as nothing in them needs a gradient, so their activations go back to the
// pool as soon as they are used.
func (r *ResNet) Forward(x *tensor.Tensor) [4]*tensor.Tensor {
	e := x.Engine()
	stage := func(frozen bool, f func()) {
		if frozen && e.GradEnabled() {
			e.NoGrad(f)
			return
		}
		f()
	}
	stage(r.opt.FrozenStages >= 0, func() {
		c := r.Conv1.Forward(x)
		a := tensor.ReluInPlace(r.BN1.Forward(c))
		drop(c)
		x = tensor.MaxPool2d(a, 3, 2, 1)
		drop(a)
	})
	var out [4]*tensor.Tensor
	for s, l := range r.Layers {
		stage(s < r.opt.FrozenStages, func() { x = forwardDropping(l, x) })
		out[s] = x
	}
	return out
}

// Params implements nn.Module.
func (r *ResNet) Params() []nn.Named { return nil }

// Buffers implements nn.Module.
func (r *ResNet) Buffers() []nn.Named { return nil }

// Children implements nn.Module with torchvision's names.
func (r *ResNet) Children() []nn.Child {
	out := []nn.Child{{Name: "conv1", Module: r.Conv1}, {Name: "bn1", Module: r.BN1}}
	for i, l := range r.Layers {
		out = append(out, nn.Child{Name: fmt.Sprintf("layer%d", i+1), Module: l})
	}
	return out
}

// resBlock is a torchvision BasicBlock (two 3x3 convs) or Bottleneck (1x1,
// 3x3, 1x1), each conv followed by BN, with an optional projection shortcut.
type resBlock struct {
	convs      []*nn.Conv2d
	bns        []*nn.BatchNorm2d
	downsample *nn.Sequential // conv 1x1 + BN; nil for the identity
}

func newBasicBlock(e *tensor.Engine, rng *rand.Rand, in, planes, stride int, opt ResNetOptions) *resBlock {
	b := &resBlock{
		convs: []*nn.Conv2d{newConv(e, rng, in, planes, 3, stride, 1), newConv(e, rng, planes, planes, 3, 1, 1)},
		bns:   []*nn.BatchNorm2d{nn.NewBatchNorm2d(e, planes), nn.NewBatchNorm2d(e, planes)},
	}
	b.finish(e, rng, in, planes, stride, opt)
	return b
}

func newBottleneck(e *tensor.Engine, rng *rand.Rand, in, planes, stride int, opt ResNetOptions) *resBlock {
	s1, s3 := 1, stride // pytorch style: stride in the 3x3
	if opt.Style == StyleCaffe {
		s1, s3 = stride, 1
	}
	b := &resBlock{
		convs: []*nn.Conv2d{
			newConv(e, rng, in, planes, 1, s1, 0),
			newConv(e, rng, planes, planes, 3, s3, 1),
			newConv(e, rng, planes, planes*4, 1, 1, 0),
		},
		bns: []*nn.BatchNorm2d{nn.NewBatchNorm2d(e, planes), nn.NewBatchNorm2d(e, planes), nn.NewBatchNorm2d(e, planes*4)},
	}
	b.finish(e, rng, in, planes*4, stride, opt)
	return b
}

// finish adds the projection shortcut when the shape changes and applies
// the zero-init of the last BN.
func (b *resBlock) finish(e *tensor.Engine, rng *rand.Rand, in, out, stride int, opt ResNetOptions) {
	if stride != 1 || in != out {
		b.downsample = nn.NewSequential(newConv(e, rng, in, out, 1, stride, 0), nn.NewBatchNorm2d(e, out))
	}
	if opt.ZeroInitResidual {
		nn.Constant(b.bns[len(b.bns)-1].Weight, 0)
	}
}

func (b *resBlock) Params() []nn.Named  { return nil }
func (b *resBlock) Buffers() []nn.Named { return nil }
func (b *resBlock) Children() []nn.Child {
	var out []nn.Child
	for i := range b.convs {
		out = append(out,
			nn.Child{Name: fmt.Sprintf("conv%d", i+1), Module: b.convs[i]},
			nn.Child{Name: fmt.Sprintf("bn%d", i+1), Module: b.bns[i]})
	}
	if b.downsample != nil {
		out = append(out, nn.Child{Name: "downsample", Module: b.downsample})
	}
	return out
}

// Forward drops each intermediate once used when grad mode is off (see
// drop); x stays the caller's. As PyTorch's torchvision blocks keep one
// activation per conv-BN-ReLU, the frozen BN, the ReLU and the residual
// addition write over the convolution's output (no backward here reads the
// output it overwrites: a convolution's reads its input, a frozen BN's and
// an addition's nothing, a ReLU's its own output).
func (b *resBlock) Forward(x *tensor.Tensor) *tensor.Tensor {
	y := x
	for i := range b.convs {
		c := b.convs[i].Forward(y)
		if y != x {
			drop(y)
		}
		y = b.bns[i].ForwardInPlace(c)
		drop(c) // a no-op when BN wrote over c
		if i < len(b.convs)-1 {
			y = tensor.ReluInPlace(y)
		}
	}
	identity := x
	if b.downsample != nil {
		conv, bn := b.downsample.Layers[0].(*nn.Conv2d), b.downsample.Layers[1].(*nn.BatchNorm2d)
		identity = bn.ForwardInPlace(conv.Forward(x))
	}
	sum := tensor.AddInPlace(y, identity)
	if identity != x {
		drop(identity)
	}
	return tensor.ReluInPlace(sum)
}
