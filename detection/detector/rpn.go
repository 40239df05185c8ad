package detector

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// RPN is a region proposal network trained alone; its predictions are
// proposals (label 0, score = objectness).
type RPN struct {
	body
	RPNHead *RPNHead
	// TestProposal turns outputs into proposals at inference.
	TestProposal detection.ProposalConfig
}

// Children implements nn.Module: backbone, neck, rpn_head.
func (d *RPN) Children() []nn.Child {
	return append(d.children(), nn.Child{Name: "rpn_head", Module: d.RPNHead})
}

// Losses implements Detector: "loss_rpn_cls" and "loss_rpn_bbox".
func (d *RPN) Losses(b *batch.Batch, rngs []*rand.Rand) (losses Losses, err error) {
	defer tensor.Recover(&err, "rpn losses")
	if err := checkBatch(b, rngs, true); err != nil {
		return nil, fmt.Errorf("rpn losses: %w", err)
	}
	_, out, err := d.rpnPass(d.RPNHead, b.Images)
	if err != nil {
		return nil, fmt.Errorf("rpn losses: %w", err)
	}
	losses, err = d.RPNHead.Losses(out, b.Items, rngs)
	if err != nil {
		return nil, fmt.Errorf("rpn losses: %w", err)
	}
	return losses, nil
}

// Predict implements Detector: each image's proposals in original pixels.
func (d *RPN) Predict(b *batch.Batch) ([]detection.Detections, error) {
	dets, err := predictProposals(d, d.training, &d.body, d.RPNHead, d.TestProposal, b)
	if err != nil {
		return nil, fmt.Errorf("rpn predict: %w", err)
	}
	return dets, nil
}

// predictProposals runs the backbone, neck and RPN head of m in inference
// mode and returns each image's proposals (label 0, score = objectness) in
// original pixels.
func predictProposals(m Detector, training bool, body *body, head *RPNHead, cfg detection.ProposalConfig, b *batch.Batch) (dets []detection.Detections, err error) {
	if err := checkBatch(b, nil, false); err != nil {
		return nil, err
	}
	err = inference(m, training, b.Images.Engine(), func() error {
		_, out, err := body.rpnPass(head, b.Images)
		if err != nil {
			return err
		}
		props, err := head.Proposals(out, b.Items, cfg)
		if err != nil {
			return err
		}
		dets = make([]detection.Detections, len(props))
		for i, p := range props {
			d := detection.Detections{Boxes: slices.Clone(p.Boxes), Scores: slices.Clone(p.Scores), Labels: make([]int32, len(p.Scores))}
			dets[i] = toOriginal(d, b.Items[i])
		}
		return nil
	})
	return dets, err
}

// FasterRCNN is an RPN whose proposals feed a RoI head, trained jointly.
type FasterRCNN struct {
	body
	RPNHead *RPNHead
	RoIHead *RoIHead
	// TrainProposal and TestProposal make the RoI head's proposals.
	TrainProposal, TestProposal detection.ProposalConfig
}

// Children implements nn.Module: backbone, neck, rpn_head, roi_head.
func (d *FasterRCNN) Children() []nn.Child {
	return append(d.children(), nn.Child{Name: "rpn_head", Module: d.RPNHead}, nn.Child{Name: "roi_head", Module: d.RoIHead})
}

// proposalBoxes runs the proposal layer without recording a graph: the RoI
// head's targets do not back-propagate into the RPN (as MMDetection).
func proposalBoxes(h *RPNHead, out RPNOutput, items []*batch.Item, cfg detection.ProposalConfig) ([][]float32, error) {
	e := out.Logits.Engine()
	var props []detection.Proposals
	var err error
	e.NoGrad(func() { props, err = h.Proposals(out, items, cfg) })
	if err != nil {
		return nil, err
	}
	boxes := make([][]float32, len(props))
	for i, p := range props {
		boxes[i] = p.Boxes
	}
	return boxes, nil
}

// Losses implements Detector: the RPN's and the RoI head's losses, merged.
func (d *FasterRCNN) Losses(b *batch.Batch, rngs []*rand.Rand) (losses Losses, err error) {
	defer tensor.Recover(&err, "faster r-cnn losses")
	if err := checkBatch(b, rngs, true); err != nil {
		return nil, fmt.Errorf("faster r-cnn losses: %w", err)
	}
	feats, out, err := d.rpnPass(d.RPNHead, b.Images)
	if err != nil {
		return nil, fmt.Errorf("faster r-cnn losses: %w", err)
	}
	rpn, err := d.RPNHead.Losses(out, b.Items, rngs)
	if err != nil {
		return nil, fmt.Errorf("faster r-cnn losses: %w", err)
	}
	props, err := proposalBoxes(d.RPNHead, out, b.Items, d.TrainProposal)
	if err != nil {
		return nil, fmt.Errorf("faster r-cnn losses: %w", err)
	}
	roi, err := d.RoIHead.Losses(feats, b.Items, props, rngs)
	if err != nil {
		return nil, fmt.Errorf("faster r-cnn losses: %w", err)
	}
	losses, err = MergeLosses(rpn, roi)
	if err != nil {
		return nil, fmt.Errorf("faster r-cnn losses: %w", err)
	}
	return losses, nil
}

// PredictProposals returns the RPN's proposals for each image in original
// pixels, as an RPN's Predict does: the evaluate stage's "proposal" type.
func (d *FasterRCNN) PredictProposals(b *batch.Batch) ([]detection.Detections, error) {
	dets, err := predictProposals(d, d.training, &d.body, d.RPNHead, d.TestProposal, b)
	if err != nil {
		return nil, fmt.Errorf("faster r-cnn proposals: %w", err)
	}
	return dets, nil
}

// Predict implements Detector.
func (d *FasterRCNN) Predict(b *batch.Batch) (dets []detection.Detections, err error) {
	if err := checkBatch(b, nil, false); err != nil {
		return nil, fmt.Errorf("faster r-cnn predict: %w", err)
	}
	err = inference(d, d.training, b.Images.Engine(), func() error {
		feats, out, err := d.rpnPass(d.RPNHead, b.Images)
		if err != nil {
			return err
		}
		props, err := proposalBoxes(d.RPNHead, out, b.Items, d.TestProposal)
		if err != nil {
			return err
		}
		dets, err = d.RoIHead.Predict(feats, b.Items, props)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("faster r-cnn predict: %w", err)
	}
	return dets, nil
}

// RPNHeadOptionsFromConfig maps model.rpn_head and train_cfg.rpn;
// inChannels is the neck's out channels.
func RPNHeadOptionsFromConfig(cfg *configs.Config, inChannels int) (RPNHeadOptions, error) {
	m := cfg.Model
	legacy := m.LegacyPlusOne
	rh := m.RPNHead
	coder, err := coderFromConfig(rh.TargetMeans, rh.TargetStds, legacy)
	if err != nil {
		return RPNHeadOptions{}, fmt.Errorf("model.rpn_head: %w", err)
	}
	anchors := anchorGenerator(rh.AnchorStrides, rh.AnchorScales, rh.AnchorRatios, legacy, cfg.Model.Torchvision())
	tr := cfg.TrainCfg.RPN
	return RPNHeadOptions{
		InChannels:    inChannels,
		FeatChannels:  rh.FeatChannels,
		Anchors:       &anchors,
		Coder:         &coder,
		Loss:          BoxLoss{Type: rh.LossBBox.Type, Beta: rh.LossBBox.Beta},
		Assigner:      assignerFromConfig(tr.Assigner, legacy),
		Sampler:       samplerFromConfig(tr.Sampler),
		AllowedBorder: float32(tr.AllowedBorder),
		Legacy:        legacy,
	}, nil
}

// torchvisionMinProposal is the side under which torchvision's RPN drops
// a proposal (remove_small_boxes(min_size=1e-3)).
const torchvisionMinProposal = 1e-3

// ProposalConfigFromConfig maps a proposal section (train_cfg.rpn_proposal
// or test_cfg.rpn) under model m's conventions.
func ProposalConfigFromConfig(p configs.ProposalCfg, m configs.Model) detection.ProposalConfig {
	c := detection.ProposalConfig{
		NmsPre:     p.NMSPre,
		NmsPost:    p.NMSPost,
		MaxNum:     p.MaxNum,
		NmsThr:     p.NMSThr,
		MinBoxSize: float32(p.MinBBoxSize),
		Legacy:     m.LegacyPlusOne,
	}
	if m.Torchvision() {
		c.MinBoxSize = max(c.MinBoxSize, torchvisionMinProposal)
	}
	return c
}

func rpnHeadFromConfig(e *tensor.Engine, cfg *configs.Config, b body, rng *rand.Rand) (*RPNHead, error) {
	if len(cfg.Model.RPNHead.AnchorStrides) > b.Neck.opt.NumOuts {
		return nil, fmt.Errorf("model.rpn_head.anchor_strides has %d levels, the neck makes %d", len(cfg.Model.RPNHead.AnchorStrides), b.Neck.opt.NumOuts)
	}
	opt, err := RPNHeadOptionsFromConfig(cfg, b.Neck.opt.OutChannels)
	if err != nil {
		return nil, err
	}
	h, err := NewRPNHead(e, opt, rng)
	if err != nil {
		return nil, fmt.Errorf("model.rpn_head: %w", err)
	}
	return h, nil
}

// NewRPNFromConfig builds an RPN.
func NewRPNFromConfig(e *tensor.Engine, cfg *configs.Config, rng *rand.Rand) (*RPN, error) {
	b, err := bodyFromConfig(e, cfg, rng)
	if err != nil {
		return nil, fmt.Errorf("build rpn: %w", err)
	}
	h, err := rpnHeadFromConfig(e, cfg, b, rng)
	if err != nil {
		return nil, fmt.Errorf("build rpn: %w", err)
	}
	return &RPN{body: b, RPNHead: h, TestProposal: ProposalConfigFromConfig(cfg.TestCfg.RPN, cfg.Model)}, nil
}

// NewFasterRCNNFromConfig builds a FasterRCNN.
func NewFasterRCNNFromConfig(e *tensor.Engine, cfg *configs.Config, rng *rand.Rand) (*FasterRCNN, error) {
	b, err := bodyFromConfig(e, cfg, rng)
	if err != nil {
		return nil, fmt.Errorf("build faster r-cnn: %w", err)
	}
	rh, err := rpnHeadFromConfig(e, cfg, b, rng)
	if err != nil {
		return nil, fmt.Errorf("build faster r-cnn: %w", err)
	}
	opt, err := RoIHeadOptionsFromConfig(cfg, b.Neck.opt.OutChannels)
	if err != nil {
		return nil, fmt.Errorf("build faster r-cnn: %w", err)
	}
	h, err := NewRoIHead(e, opt, rng)
	if err != nil {
		return nil, fmt.Errorf("build faster r-cnn: model.roi_head: %w", err)
	}
	return &FasterRCNN{
		body: b, RPNHead: rh, RoIHead: h,
		TrainProposal: ProposalConfigFromConfig(cfg.TrainCfg.RPNProposal, cfg.Model),
		TestProposal:  ProposalConfigFromConfig(cfg.TestCfg.RPN, cfg.Model),
	}, nil
}
