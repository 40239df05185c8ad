package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// Detector is a trainable detector: the model the train stage drives and
// the evaluate stage runs.
type Detector interface {
	nn.Module
	nn.Trainable
	// Losses runs the training forward pass and returns named scalar losses
	// whose sum is minimised, those of all its heads and branches
	// (MergeLosses); rngs holds one generator per image, used for all of
	// that image's sampling.
	Losses(b *batch.Batch, rngs []*rand.Rand) (Losses, error)
	// Predict runs inference (eval mode, grad off) and returns one
	// detection.Detections per image, in original image pixels. Scratch
	// tensors are released before it returns.
	Predict(b *batch.Batch) ([]detection.Detections, error)
}

// toOriginal scales d's boxes, in place, from the resized frame back to the
// original image and clips them to it.
func toOriginal(d detection.Detections, it *batch.Item) detection.Detections {
	sx, sy := itemScale(it)
	w, h := float32(it.OrigW), float32(it.OrigH)
	for i := 0; i < len(d.Boxes); i += 4 {
		d.Boxes[i] = clampTo(d.Boxes[i]/sx, w)
		d.Boxes[i+1] = clampTo(d.Boxes[i+1]/sy, h)
		d.Boxes[i+2] = clampTo(d.Boxes[i+2]/sx, w)
		d.Boxes[i+3] = clampTo(d.Boxes[i+3]/sy, h)
	}
	return d
}

// clampTo limits v to [0, hi]; hi <= 0 means unknown (no upper bound).
func clampTo(v, hi float32) float32 {
	v = max(v, 0)
	if hi > 0 {
		v = min(v, hi)
	}
	return v
}

// body is the backbone and neck every detector shares.
type body struct {
	Backbone   *ResNet
	Neck       *FPN
	outIndices []int
	training   bool
}

// features runs backbone and neck: P2..P6.
// rpnPass runs the backbone, the neck and an RPN head: the shared first
// half of the RPN and Faster R-CNN passes.
func (d *body) rpnPass(h *RPNHead, images *tensor.Tensor) ([]*tensor.Tensor, RPNOutput, error) {
	feats, err := d.features(images)
	if err != nil {
		return nil, RPNOutput{}, err
	}
	out, err := h.Forward(feats)
	return feats, out, err
}

func (d *body) features(images *tensor.Tensor) ([]*tensor.Tensor, error) {
	if images == nil || images.Rank() != 4 || images.Dim(1) != 3 {
		return nil, fmt.Errorf("images: want [B,3,H,W], got %v", shapeOf(images))
	}
	cs := d.Backbone.Forward(images)
	in := make([]*tensor.Tensor, len(d.outIndices))
	for i, k := range d.outIndices {
		in[i] = cs[k]
	}
	feats, err := d.Neck.Forward(in)
	drop(cs[:]...) // the neck was their last use
	return feats, err
}

func shapeOf(t *tensor.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape()
}

// SetTraining implements nn.Trainable: it records the mode; nn.SetTraining
// switches the batch norms below.
func (d *body) SetTraining(on bool) { d.training = on }

// Params implements nn.Module.
func (d *body) Params() []nn.Named { return nil }

// Buffers implements nn.Module.
func (d *body) Buffers() []nn.Named { return nil }

func (d *body) children() []nn.Child {
	return []nn.Child{{Name: "backbone", Module: d.Backbone}, {Name: "neck", Module: d.Neck}}
}

// checkBatch validates a batch against its per-image generators.
func checkBatch(b *batch.Batch, rngs []*rand.Rand, needRNG bool) error {
	if b == nil || b.Images == nil {
		return fmt.Errorf("empty batch")
	}
	if b.Images.Rank() != 4 || b.Images.Dim(0) != len(b.Items) {
		return fmt.Errorf("batch of %d items with images %v", len(b.Items), b.Images.Shape())
	}
	if needRNG {
		if len(rngs) != len(b.Items) {
			return fmt.Errorf("%d random sources for %d images", len(rngs), len(b.Items))
		}
		for i, r := range rngs {
			if r == nil {
				return fmt.Errorf("image %d: nil random source", i)
			}
		}
	}
	return nil
}

// inference runs fn in eval mode with grad off, restoring the previous mode
// and releasing scratch tensors afterwards.
func inference(m Detector, training bool, e *tensor.Engine, fn func() error) (err error) {
	if training {
		nn.SetTraining(m, false)
		defer nn.SetTraining(m, true)
	}
	mark := e.Mark()
	defer e.Release(mark)
	// The callers add their context.
	defer tensor.Recover(&err, "")
	e.NoGrad(func() { err = fn() })
	return err
}
