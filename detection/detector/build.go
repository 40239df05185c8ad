package detector

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

// builders make each model type of the registry (package zoo); a test
// fails when a registered type has none.
var builders = map[string]func(*tensor.Engine, *configs.Config, *rand.Rand) (Detector, error){
	zoo.ModelFastRCNN: func(e *tensor.Engine, c *configs.Config, r *rand.Rand) (Detector, error) {
		return NewFastRCNNFromConfig(e, c, r)
	},
	zoo.ModelRPN: func(e *tensor.Engine, c *configs.Config, r *rand.Rand) (Detector, error) {
		return NewRPNFromConfig(e, c, r)
	},
	zoo.ModelFasterRCNN: func(e *tensor.Engine, c *configs.Config, r *rand.Rand) (Detector, error) {
		return NewFasterRCNNFromConfig(e, c, r)
	},
	zoo.ModelRetinaNet: func(e *tensor.Engine, c *configs.Config, r *rand.Rand) (Detector, error) {
		return NewRetinaNetFromConfig(e, c, r)
	},
	// The mask models are the box models whose RoI head has a mask branch
	// (RoIHeadOptionsFromConfig adds it for the types that have one).
	zoo.ModelMaskRCNN: func(e *tensor.Engine, c *configs.Config, r *rand.Rand) (Detector, error) {
		return NewFasterRCNNFromConfig(e, c, r)
	},
	zoo.ModelFastMaskRCNN: func(e *tensor.Engine, c *configs.Config, r *rand.Rand) (Detector, error) {
		return NewFastRCNNFromConfig(e, c, r)
	},
}

// Build makes the detector cfg.Model.Type names, initialised from rng
// (replicas built from the same seed are identical), in training mode.
// It does not load cfg.Model.Backbone.Pretrained: call LoadBackboneWeights
// for that (it reads a file).
func Build(e *tensor.Engine, cfg *configs.Config, rng *rand.Rand) (Detector, error) {
	build, ok := builders[cfg.Model.Type]
	if !ok {
		return nil, fmt.Errorf("build detector: model.type %q: want one of %s", cfg.Model.Type, strings.Join(zoo.ModelTypes(), ", "))
	}
	return build(e, cfg, rng)
}

// ResNetOptionsFromConfig maps model.backbone.
func ResNetOptionsFromConfig(c configs.Backbone) ResNetOptions {
	return ResNetOptions{
		Depth:            c.Depth,
		Style:            c.Style,
		BaseChannels:     c.BaseChannels,
		FrozenStages:     c.FrozenStages,
		NormEval:         c.NormEval,
		FixNormAffine:    !c.NormCfg.RequiresGrad,
		ZeroInitResidual: c.ZeroInitResidual,
	}
}

// FPNOptionsFromConfig maps model.neck.
func FPNOptionsFromConfig(c configs.Neck) FPNOptions {
	return FPNOptions{InChannels: slices.Clone(c.InChannels), OutChannels: c.OutChannels, NumOuts: c.NumOuts,
		ExtraConvs: c.AddExtraConvs, ReluBeforeExtra: c.ReluBeforeExtraConvs}
}

// torchvisionMinDetection is the side under which torchvision's RoI heads
// drop a detection (remove_small_boxes(min_size=1e-2)).
const torchvisionMinDetection = 1e-2

// RoIHeadOptionsFromConfig maps model.roi_head, train_cfg.rcnn and
// test_cfg.rcnn; inChannels is the neck's out channels.
func RoIHeadOptionsFromConfig(cfg *configs.Config, inChannels int) (RoIHeadOptions, error) {
	m := cfg.Model
	legacy := m.LegacyPlusOne
	x := m.RoIHead.RoIExtractor
	bh := m.RoIHead.BBoxHead
	coder, err := coderFromConfig(bh.TargetMeans, bh.TargetStds, legacy)
	if err != nil {
		return RoIHeadOptions{}, fmt.Errorf("model.roi_head.bbox_head: %w", err)
	}
	rc := cfg.TrainCfg.RCNN
	var mask *MaskOptions
	if typ, _ := zoo.LookupModel(m.Type); typ.MaskHead {
		o := MaskOptionsFromConfig(cfg, inChannels)
		mask = &o
	}
	opt := RoIHeadOptions{
		Mask:      mask,
		Extractor: extractorFromConfig(x, legacy),
		BBox: BBoxHeadOptions{
			InChannels:       inChannels,
			RoISize:          x.OutputSize,
			NumSharedFCs:     bh.NumSharedFCs,
			FCChannels:       bh.FCOutChannels,
			NumClasses:       bh.NumClasses,
			RegClassAgnostic: bh.RegClassAgnostic,
		},
		Coder:     &coder,
		Loss:      BoxLoss{Type: bh.LossBBox.Type, Beta: bh.LossBBox.Beta},
		Assigner:  assignerFromConfig(rc.Assigner, legacy),
		Sampler:   samplerFromConfig(rc.Sampler),
		ScoreThr:  cfg.TestCfg.RCNN.ScoreThr,
		NMSThr:    cfg.TestCfg.RCNN.NMSThr,
		MaxPerImg: cfg.TestCfg.RCNN.MaxPerImg,
		Legacy:    legacy,
	}
	if m.Torchvision() {
		opt.MinBoxSize = torchvisionMinDetection
	}
	return opt, nil
}

// MaskOptionsFromConfig maps model.roi_head.mask_roi_extractor and
// mask_head (target and paste modes included) and
// test_cfg.rcnn.mask_thr_binary and train_cfg.rcnn.mask_max_rois; inChannels is the neck's out
// channels. train_cfg.rcnn.mask_size is the head's output side, which the
// config validation ties to the extractor's output size.
func MaskOptionsFromConfig(cfg *configs.Config, inChannels int) MaskOptions {
	x := cfg.Model.RoIHead.MaskRoIExtractor
	h := cfg.Model.RoIHead.MaskHead
	return MaskOptions{
		Extractor: extractorFromConfig(x, cfg.Model.LegacyPlusOne),
		Head: MaskHeadOptions{
			InChannels:   inChannels,
			NumConvs:     h.NumConvs,
			ConvChannels: h.ConvOutChannels,
			NumClasses:   h.NumClasses,
		},
		Target:          h.Target,
		Paste:           h.Paste,
		Threshold:       cfg.TestCfg.RCNN.MaskThrBinary,
		MaxRoIsPerImage: cfg.TrainCfg.RCNN.MaskMaxRoIs,
	}
}

// extractorFromConfig maps a roi_extractor or mask_roi_extractor section.
func extractorFromConfig(x configs.RoIExtractor, legacy bool) RoIExtractorOptions {
	return RoIExtractorOptions{
		OutputSize:    x.OutputSize,
		SamplingRatio: x.SamplingRatio,
		Aligned:       x.Aligned,
		Strides:       slices.Clone(x.FeatmapStrides),
		FinestScale:   float64(x.FinestScale),
		Legacy:        legacy,
	}
}

func coderFromConfig(means, stds []float64, legacy bool) (detection.BoxCoder, error) {
	if len(means) != 4 || len(stds) != 4 {
		return detection.BoxCoder{}, fmt.Errorf("target_means and target_stds need 4 values, got %d and %d", len(means), len(stds))
	}
	c := detection.BoxCoder{Legacy: legacy}
	copy(c.Means[:], means)
	copy(c.Stds[:], stds)
	return c, nil
}

// assignerFromConfig maps an assigner section. Low-quality matching is on,
// as in every MMDetection version these configs come from.
func assignerFromConfig(a configs.Assigner, legacy bool) detection.MaxIoUAssigner {
	return detection.MaxIoUAssigner{
		PosIoUThr:       a.PosIoUThr,
		NegIoUThr:       a.NegIoUThr,
		MinPosIoU:       a.MinPosIoU,
		MatchLowQuality: true,
		GtMaxAssignAll:  true,
		IgnoreIoFThr:    a.IgnoreIoFThr,
		Legacy:          legacy,
	}
}

func samplerFromConfig(s configs.Sampler) detection.RandomSampler {
	return detection.RandomSampler{Num: s.Num, PosFraction: s.PosFraction, NegPosUB: s.NegPosUB, AddGtAsProposals: s.AddGTAsProposals}
}

// bodyFromConfig builds backbone and neck and checks that they fit.
func bodyFromConfig(e *tensor.Engine, cfg *configs.Config, rng *rand.Rand) (body, error) {
	bb := cfg.Model.Backbone
	if bb.Type != "" && bb.Type != "ResNet" {
		return body{}, fmt.Errorf("model.backbone.type %q: only ResNet is built", bb.Type)
	}
	r, err := NewResNet(e, ResNetOptionsFromConfig(bb), rng)
	if err != nil {
		return body{}, fmt.Errorf("model.backbone: %w", err)
	}
	idx := bb.OutIndices
	if len(idx) == 0 {
		idx = []int{0, 1, 2, 3}
	}
	nk := cfg.Model.Neck
	if nk.Type != "" && nk.Type != "FPN" {
		return body{}, fmt.Errorf("model.neck.type %q: only FPN is built", nk.Type)
	}
	if len(nk.InChannels) != len(idx) {
		return body{}, fmt.Errorf("model.neck.in_channels has %d entries for %d backbone out_indices", len(nk.InChannels), len(idx))
	}
	for i, k := range idx {
		if k < 0 || k > 3 {
			return body{}, fmt.Errorf("model.backbone.out_indices: %d outside 0..3", k)
		}
		if nk.InChannels[i] != r.OutChannels[k] {
			return body{}, fmt.Errorf("model.neck.in_channels[%d] = %d, but backbone stage %d has %d channels", i, nk.InChannels[i], k, r.OutChannels[k])
		}
	}
	f, err := NewFPN(e, FPNOptionsFromConfig(nk), rng)
	if err != nil {
		return body{}, fmt.Errorf("model.neck: %w", err)
	}
	return body{Backbone: r, Neck: f, outIndices: slices.Clone(idx), training: true}, nil
}

// NewFastRCNNFromConfig builds a FastRCNN.
func NewFastRCNNFromConfig(e *tensor.Engine, cfg *configs.Config, rng *rand.Rand) (*FastRCNN, error) {
	b, err := bodyFromConfig(e, cfg, rng)
	if err != nil {
		return nil, fmt.Errorf("build fast r-cnn: %w", err)
	}
	opt, err := RoIHeadOptionsFromConfig(cfg, b.Neck.opt.OutChannels)
	if err != nil {
		return nil, fmt.Errorf("build fast r-cnn: %w", err)
	}
	h, err := NewRoIHead(e, opt, rng)
	if err != nil {
		return nil, fmt.Errorf("build fast r-cnn: model.roi_head: %w", err)
	}
	return &FastRCNN{body: b, RoIHead: h, TopKTrain: cfg.Proposals.TopKTrain, TopKTest: cfg.Proposals.TopKTest}, nil
}
