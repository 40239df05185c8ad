package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// RPNHeadOptions configures the region proposal head.
type RPNHeadOptions struct {
	// InChannels of the pyramid levels (> 0).
	InChannels int
	// FeatChannels of the shared 3x3 conv; default InChannels.
	FeatChannels int
	// Anchors; default detection.RPNAnchors (scale 8, ratios 0.5/1/2,
	// strides 4..64).
	Anchors *detection.AnchorGenerator
	// Coder; default means 0, stds 1.
	Coder *detection.BoxCoder
	// Loss of the regression; default smooth-L1 with beta 1/9.
	Loss     BoxLoss
	Assigner detection.MaxIoUAssigner // default detection.RPNAssigner
	Sampler  detection.RandomSampler  // default detection.RPNSampler
	// AllowedBorder: anchors crossing the image border by more pixels are
	// ignored in training; negative keeps all. Default 0.
	AllowedBorder float32
	Legacy        bool
}

func (o RPNHeadOptions) withDefaults() RPNHeadOptions {
	if o.FeatChannels == 0 {
		o.FeatChannels = o.InChannels
	}
	if o.Anchors == nil {
		a := detection.RPNAnchors()
		o.Anchors = &a
	}
	if o.Coder == nil {
		c := detection.RPNBoxCoder()
		c.Legacy = o.Legacy
		o.Coder = &c
	}
	if o.Loss == (BoxLoss{}) {
		o.Loss = BoxLoss{Type: LossSmoothL1, Beta: 1.0 / 9}
	}
	if o.Assigner == (detection.MaxIoUAssigner{}) {
		o.Assigner = detection.RPNAssigner()
		o.Assigner.Legacy = o.Legacy
	}
	if o.Sampler == (detection.RandomSampler{}) {
		o.Sampler = detection.RPNSampler()
	}
	return o
}

// RPNHead is MMDetection's RPNHead: a 3x3 conv with ReLU shared over the
// levels, then per anchor a 1x1 objectness logit (sigmoid) and 1x1 deltas.
type RPNHead struct {
	Conv *nn.Conv2d
	Cls  *nn.Conv2d
	Reg  *nn.Conv2d
	opt  RPNHeadOptions
	grid anchorCache
}

// NewRPNHead builds the head with MMDetection's N(0, 0.01²) initialisation.
func NewRPNHead(e *tensor.Engine, opt RPNHeadOptions, rng *rand.Rand) (*RPNHead, error) {
	opt = opt.withDefaults()
	if opt.InChannels <= 0 {
		return nil, fmt.Errorf("rpn head: %d input channels", opt.InChannels)
	}
	if err := opt.Anchors.Validate(); err != nil {
		return nil, fmt.Errorf("rpn head: %w", err)
	}
	if err := opt.Loss.validate(); err != nil {
		return nil, fmt.Errorf("rpn head: %w", err)
	}
	if err := opt.Assigner.Validate(); err != nil {
		return nil, fmt.Errorf("rpn head: %w", err)
	}
	if err := opt.Sampler.Validate(); err != nil {
		return nil, fmt.Errorf("rpn head: %w", err)
	}
	if opt.Sampler.AddGtAsProposals {
		return nil, fmt.Errorf("rpn head: the anchor sampler cannot add gts as proposals (train_cfg.rpn.sampler.add_gt_as_proposals)")
	}
	a := opt.Anchors.NumBaseAnchors()
	conv := func(in, out, k, pad int) *nn.Conv2d {
		c := nn.NewConv2d(e, nn.Conv2dConfig{In: in, Out: out, Kernel: k, Padding: pad, Bias: true})
		nn.Normal(c.Weight, rng, 0, 0.01)
		return c
	}
	return &RPNHead{
		Conv: conv(opt.InChannels, opt.FeatChannels, 3, 1),
		Cls:  conv(opt.FeatChannels, a, 1, 0),
		Reg:  conv(opt.FeatChannels, 4*a, 1, 0),
		opt:  opt,
		grid: anchorCache{},
	}, nil
}

// Params implements nn.Module.
func (h *RPNHead) Params() []nn.Named { return nil }

// Buffers implements nn.Module.
func (h *RPNHead) Buffers() []nn.Named { return nil }

// Children implements nn.Module with MMDetection v2's names.
func (h *RPNHead) Children() []nn.Child {
	return []nn.Child{{Name: "rpn_conv", Module: h.Conv}, {Name: "rpn_cls", Module: h.Cls}, {Name: "rpn_reg", Module: h.Reg}}
}

// RPNOutput is the head's output over all levels, in anchor order
// (detection.AnchorGenerator: level, then location row-major, then anchor).
type RPNOutput struct {
	Logits *tensor.Tensor // [B, N] objectness logits (sigmoid gives the score)
	Deltas *tensor.Tensor // [B, 4N] box deltas, 4 per anchor
	Sizes  [][2]int       // (H, W) of each level
	Counts []int          // anchors of each level
}

// Forward runs the head on the first len(Strides) pyramid levels.
func (h *RPNHead) Forward(feats []*tensor.Tensor) (RPNOutput, error) {
	nl := h.opt.Anchors.NumLevels()
	if len(feats) < nl {
		return RPNOutput{}, fmt.Errorf("rpn head: %d feature levels for %d anchor strides", len(feats), nl)
	}
	a := h.opt.Anchors.NumBaseAnchors()
	var out RPNOutput
	logits := make([]*tensor.Tensor, nl)
	deltas := make([]*tensor.Tensor, nl)
	for l := 0; l < nl; l++ {
		// In place, as the conv's backward does not read its output: a
		// second copy of P2's is 69 MB at 1333x800, kept until backward.
		x := tensor.ReluInPlace(h.Conv.Forward(feats[l]))
		b, hh, ww := x.Dim(0), x.Dim(2), x.Dim(3)
		// [B,A,H,W] -> [B,H,W,A]: location-major, anchor inner, the order
		// of the anchor generator.
		logits[l] = tensor.Reshape(tensor.Permute(h.Cls.Forward(x), 0, 2, 3, 1), b, hh*ww*a)
		deltas[l] = tensor.Reshape(tensor.Permute(h.Reg.Forward(x), 0, 2, 3, 1), b, hh*ww*a*4)
		out.Sizes = append(out.Sizes, [2]int{hh, ww})
		out.Counts = append(out.Counts, hh*ww*a)
	}
	out.Logits = tensor.Concat(1, logits...)
	out.Deltas = tensor.Concat(1, deltas...)
	return out, nil
}

// imageAnchors returns all levels' anchors and their valid flags for an
// image of itemH x itemW pixels.
func (h *RPNHead) imageAnchors(out RPNOutput, itemH, itemW int) ([]float32, []bool) {
	var anchors []float32
	var valid []bool
	levels := h.grid.levels(h.opt.Anchors, out.Sizes)
	for l, s := range out.Sizes {
		anchors = append(anchors, levels[l]...)
		valid = append(valid, h.opt.Anchors.ValidFlags(l, s[0], s[1], itemH, itemW)...)
	}
	return anchors, valid
}

// Losses assigns and samples anchors per image and returns the
// objectness and regression losses, "loss_rpn_cls" and "loss_rpn_bbox".
func (h *RPNHead) Losses(out RPNOutput, items []*batch.Item, rngs []*rand.Rand) (Losses, error) {
	e := out.Logits.Engine()
	b, n := out.Logits.Dim(0), out.Logits.Dim(1)
	labels := make([]float32, b*n)
	clsW := make([]float32, b*n)
	targets := make([]float32, 4*b*n)
	regW := make([]float32, 4*b*n)
	for i, it := range items {
		if err := h.imageTargets(out, it, rngs[i], len(items), labels[i*n:(i+1)*n], clsW[i*n:(i+1)*n], targets[4*i*n:4*(i+1)*n], regW[4*i*n:4*(i+1)*n]); err != nil {
			return nil, fmt.Errorf("rpn targets: image %d: %w", it.ImageID, err)
		}
	}
	bce := tensor.BCEWithLogits(out.Logits, e.FromData(labels, b, n))
	cls := tensor.Sum(tensor.Mul(bce, e.FromData(clsW, b, n)))
	l := h.opt.Loss.elementwise(out.Deltas, e.FromData(targets, b, 4*n))
	reg := tensor.Sum(tensor.Mul(l, e.FromData(regW, b, 4*n)))
	return Losses{"loss_rpn_cls": cls, "loss_rpn_bbox": reg}, nil
}

// imageTargets fills one image's rows of the loss targets and weights.
func (h *RPNHead) imageTargets(out RPNOutput, it *batch.Item, rng *rand.Rand, numImages int, labels, clsW, targets, regW []float32) error {
	anchors, valid := h.imageAnchors(out, it.H, it.W)
	inside := detection.InsideFlags(anchors, valid, it.H, it.W, h.opt.AllowedBorder)
	var idx []int
	for j, ok := range inside {
		if ok {
			idx = append(idx, j)
		}
	}
	sub := detection.GatherBoxes(anchors, idx)
	gt, err := splitGT(it, 0)
	if err != nil {
		return err
	}
	gtLabels := make([]int, len(gt.labels)) // class-agnostic: every object is label 0
	as, err := h.opt.Assigner.Assign(sub, gt.boxes, gtLabels, gt.crowd)
	if err != nil {
		return err
	}
	s, err := h.opt.Sampler.Sample(rng, as, sub, gt.boxes, gtLabels)
	if err != nil {
		return err
	}
	total := len(s.PosInds) + len(s.NegInds)
	if total == 0 {
		return nil
	}
	w := 1 / float32(total*numImages)
	deltas := h.opt.Coder.Encode(detection.GatherBoxes(sub, s.PosInds), detection.GatherBoxes(gt.boxes, s.PosGtIndex()))
	for k, p := range s.PosInds {
		j := idx[p]
		labels[j], clsW[j] = 1, w
		copy(targets[4*j:4*j+4], deltas[4*k:4*k+4])
		regW[4*j], regW[4*j+1], regW[4*j+2], regW[4*j+3] = w, w, w, w
	}
	for _, q := range s.NegInds {
		clsW[idx[q]] = w
	}
	return nil
}

// Proposals turns the head's output into each image's proposals (xyxy in
// the resized frame, by decreasing objectness). Run it with grad mode off.
func (h *RPNHead) Proposals(out RPNOutput, items []*batch.Item, cfg detection.ProposalConfig) ([]detection.Proposals, error) {
	cfg.Legacy = h.opt.Legacy
	logits := out.Logits.Data()
	scores := tensor.Sigmoid(out.Logits).Data()
	deltas := out.Deltas.Data()
	n := out.Logits.Dim(1)
	anchors := h.grid.levels(h.opt.Anchors, out.Sizes) // before the parallel loop: the cache is not goroutine-safe
	res := make([]detection.Proposals, len(items))
	err := forEachImage(len(items), func(i int) error {
		it := items[i]
		levels := make([]detection.LevelPredictions, 0, len(out.Counts))
		off := 0
		for l, c := range out.Counts {
			levels = append(levels, detection.LevelPredictions{
				Logits:  logits[i*n+off : i*n+off+c],
				Scores:  scores[i*n+off : i*n+off+c],
				Deltas:  deltas[4*(i*n+off) : 4*(i*n+off+c)],
				Anchors: anchors[l],
			})
			off += c
		}
		p, err := detection.GenerateProposals(levels, *h.opt.Coder, it.H, it.W, cfg)
		if err != nil {
			return fmt.Errorf("rpn proposals: image %d: %w", it.ImageID, err)
		}
		res[i] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
