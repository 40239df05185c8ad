package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// RetinaNet is the single-stage detector of Lin et al. 2017: backbone, FPN
// with extra levels and a RetinaHead, no proposals and no RoI head.
type RetinaNet struct {
	body
	BBoxHead *RetinaHead
}

// Children implements nn.Module: backbone, neck, bbox_head.
func (d *RetinaNet) Children() []nn.Child {
	return append(d.children(), nn.Child{Name: "bbox_head", Module: d.BBoxHead})
}

// Losses implements Detector: "loss_cls" and "loss_bbox". Nothing is
// sampled, so rngs are checked but not drawn from.
func (d *RetinaNet) Losses(b *batch.Batch, rngs []*rand.Rand) (losses Losses, err error) {
	defer tensor.Recover(&err, "retinanet losses")
	if err := checkBatch(b, rngs, true); err != nil {
		return nil, fmt.Errorf("retinanet losses: %w", err)
	}
	out, err := d.forward(b.Images)
	if err != nil {
		return nil, fmt.Errorf("retinanet losses: %w", err)
	}
	losses, err = d.BBoxHead.Losses(out, b.Items)
	if err != nil {
		return nil, fmt.Errorf("retinanet losses: %w", err)
	}
	return losses, nil
}

func (d *RetinaNet) forward(images *tensor.Tensor) (DenseOutput, error) {
	feats, err := d.features(images)
	if err != nil {
		return DenseOutput{}, err
	}
	out, err := d.BBoxHead.Forward(feats)
	drop(feats...)
	return out, err
}

// Predict implements Detector.
func (d *RetinaNet) Predict(b *batch.Batch) (dets []detection.Detections, err error) {
	if err := checkBatch(b, nil, false); err != nil {
		return nil, fmt.Errorf("retinanet predict: %w", err)
	}
	err = inference(d, d.training, b.Images.Engine(), func() error {
		out, err := d.forward(b.Images)
		if err != nil {
			return err
		}
		dets = d.BBoxHead.Detect(out, b.Items)
		for i := range dets {
			dets[i] = toOriginal(dets[i], b.Items[i])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retinanet predict: %w", err)
	}
	return dets, nil
}

// RetinaHeadOptionsFromConfig maps model.bbox_head, train_cfg's assigner
// and test_cfg's single-stage keys; inChannels is the neck's out channels.
func RetinaHeadOptionsFromConfig(cfg *configs.Config, inChannels int) (RetinaHeadOptions, error) {
	m := cfg.Model
	legacy := m.LegacyPlusOne
	h := m.BBoxHead
	coder, err := coderFromConfig(h.TargetMeans, h.TargetStds, legacy)
	if err != nil {
		return RetinaHeadOptions{}, fmt.Errorf("model.bbox_head: %w", err)
	}
	anchors := anchorGenerator(h.AnchorStrides, OctaveScales(h.OctaveBaseScale, h.ScalesPerOctave), h.AnchorRatios, legacy, cfg.Model.Torchvision())
	t := cfg.TestCfg
	return RetinaHeadOptions{
		InChannels:    inChannels,
		FeatChannels:  h.FeatChannels,
		NumClasses:    h.NumClasses,
		StackedConvs:  h.StackedConvs,
		Anchors:       &anchors,
		Coder:         &coder,
		Gamma:         h.LossCls.Gamma,
		Alpha:         h.LossCls.Alpha,
		Loss:          BoxLoss{Type: h.LossBBox.Type, Beta: h.LossBBox.Beta},
		Assigner:      assignerFromConfig(cfg.TrainCfg.Assigner, legacy),
		AllowedBorder: float32(cfg.TrainCfg.AllowedBorder),
		NMSPre:        t.NMSPre,
		TopPairs:      m.Torchvision(), // torchvision's postprocess_detections
		ScoreThr:      t.ScoreThr,
		NMSThr:        t.NMSThr,
		MaxPerImg:     t.MaxPerImg,
		Legacy:        legacy,
	}, nil
}

// NewRetinaNetFromConfig builds a RetinaNet.
func NewRetinaNetFromConfig(e *tensor.Engine, cfg *configs.Config, rng *rand.Rand) (*RetinaNet, error) {
	b, err := bodyFromConfig(e, cfg, rng)
	if err != nil {
		return nil, fmt.Errorf("build retinanet: %w", err)
	}
	if n := len(cfg.Model.BBoxHead.AnchorStrides); n > b.Neck.opt.NumOuts {
		return nil, fmt.Errorf("build retinanet: model.bbox_head.anchor_strides has %d levels, the neck makes %d", n, b.Neck.opt.NumOuts)
	}
	opt, err := RetinaHeadOptionsFromConfig(cfg, b.Neck.opt.OutChannels)
	if err != nil {
		return nil, fmt.Errorf("build retinanet: %w", err)
	}
	h, err := NewRetinaHead(e, opt, rng)
	if err != nil {
		return nil, fmt.Errorf("build retinanet: model.bbox_head: %w", err)
	}
	return &RetinaNet{body: b, BBoxHead: h}, nil
}
