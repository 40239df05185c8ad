package detector

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// Detections are one image's results: xyxy boxes in ORIGINAL image pixels
// (the resized frame divided by ScaleX, ScaleY), scores and 0-based labels,
// by decreasing score.
type Detections struct {
	Boxes  []float32
	Scores []float32
	Labels []int32
}

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
	// Detections per image. Scratch tensors are released before it returns.
	Predict(b *batch.Batch) ([]Detections, error)
}

// toOriginal scales boxes from the resized frame back to the original image
// and clips them to it.
func toOriginal(boxes, scores []float32, labels []int, it *batch.Item) Detections {
	d := Detections{Boxes: make([]float32, len(boxes)), Scores: append([]float32(nil), scores...), Labels: make([]int32, len(labels))}
	sx, sy := it.ScaleX, it.ScaleY
	if sx <= 0 {
		sx = 1
	}
	if sy <= 0 {
		sy = 1
	}
	w, h := float32(it.OrigW), float32(it.OrigH)
	for i := 0; i < len(boxes); i += 4 {
		d.Boxes[i] = clampTo(boxes[i]/sx, w)
		d.Boxes[i+1] = clampTo(boxes[i+1]/sy, h)
		d.Boxes[i+2] = clampTo(boxes[i+2]/sx, w)
		d.Boxes[i+3] = clampTo(boxes[i+3]/sy, h)
	}
	for i, l := range labels {
		d.Labels[i] = int32(l)
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
	defer catchPanic(&err)
	e.NoGrad(func() { err = fn() })
	return err
}

// catchPanic turns a compute-engine panic ("tensor: ...", a shape mismatch;
// "tensordev: ...", a GPU failure) into an error at the API boundary; other
// panics propagate.
func catchPanic(err *error) {
	r := recover()
	if r == nil {
		return
	}
	msg := fmt.Sprint(r)
	if strings.HasPrefix(msg, "tensor: ") || strings.HasPrefix(msg, "tensordev: ") || strings.HasPrefix(msg, "nn: ") || strings.HasPrefix(msg, "detection: ") || strings.HasPrefix(msg, "detector: ") {
		*err = fmt.Errorf("%s", msg)
		return
	}
	panic(r)
}
