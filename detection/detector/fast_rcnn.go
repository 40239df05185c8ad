package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// FastRCNN is a two-stage detector fed with external proposals
// (batch.Item.Proposals, e.g. selective search or an RPN's export).
type FastRCNN struct {
	body
	RoIHead *RoIHead
	// TopKTrain and TopKTest are how many of each image's proposals are used
	// (the first ones: proposal files are sorted by score, and MMDetection
	// keeps the first num_max_proposals); 0 means all.
	TopKTrain, TopKTest int
}

// Children implements nn.Module: backbone, neck, roi_head.
func (d *FastRCNN) Children() []nn.Child {
	return append(d.children(), nn.Child{Name: "roi_head", Module: d.RoIHead})
}

// firstK returns the first k proposals (4 values each) of every item.
func firstK(items []*batch.Item, k int) [][]float32 {
	out := make([][]float32, len(items))
	for i, it := range items {
		p := it.Proposals
		if k > 0 && len(p) > 4*k {
			p = p[:4*k]
		}
		out[i] = p[:len(p)/4*4]
	}
	return out
}

// Losses implements Detector: the RoI head's losses ("loss_cls" and
// "loss_bbox" from its box branch).
func (d *FastRCNN) Losses(b *batch.Batch, rngs []*rand.Rand) (losses Losses, err error) {
	defer tensor.Recover(&err, "fast r-cnn losses")
	if err := checkBatch(b, rngs, true); err != nil {
		return nil, fmt.Errorf("fast r-cnn losses: %w", err)
	}
	feats, err := d.features(b.Images)
	if err != nil {
		return nil, fmt.Errorf("fast r-cnn losses: %w", err)
	}
	losses, err = d.RoIHead.Losses(feats, b.Items, firstK(b.Items, d.TopKTrain), rngs)
	if err != nil {
		return nil, fmt.Errorf("fast r-cnn losses: %w", err)
	}
	return losses, nil
}

// Predict implements Detector.
func (d *FastRCNN) Predict(b *batch.Batch) (dets []detection.Detections, err error) {
	if err := checkBatch(b, nil, false); err != nil {
		return nil, fmt.Errorf("fast r-cnn predict: %w", err)
	}
	err = inference(d, d.training, b.Images.Engine(), func() error {
		feats, err := d.features(b.Images)
		if err != nil {
			return err
		}
		dets, err = d.RoIHead.Predict(feats, b.Items, firstK(b.Items, d.TopKTest))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fast r-cnn predict: %w", err)
	}
	return dets, nil
}
