package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/tensor"
)

// MaskOptions configures the RoI head's mask branch (MMDetection's
// mask_roi_extractor and FCNMaskHead).
type MaskOptions struct {
	// Extractor pools the mask RoIs; default output 14, the box
	// extractor's other settings.
	Extractor RoIExtractorOptions
	// Head is the FCN mask head; InChannels and NumClasses default to the
	// box head's. Its masks are twice the pooled side (28).
	Head MaskHeadOptions
	// Target is TargetMMDet (default) or TargetTorchvision.
	Target string
	// Paste is PasteMMDet (default) or PasteTorchvision.
	Paste string
	// Threshold binarises the pasted probabilities (mask_thr_binary);
	// default 0.5.
	Threshold float64
	// MaxRoIsPerImage caps the positives per image the branch trains on
	// (a uniform random subset, SampledRoIs.MaskRows); 0 keeps all, as
	// MMDetection and torchvision.
	MaxRoIsPerImage int
}

func (o MaskOptions) withDefaults(h RoIHeadOptions) MaskOptions {
	x := h.Extractor.withDefaults()
	if o.Extractor.OutputSize == 0 {
		o.Extractor.OutputSize = 14
	}
	if o.Extractor.SamplingRatio == 0 && !o.Extractor.Aligned {
		o.Extractor.SamplingRatio = x.SamplingRatio
	}
	if len(o.Extractor.Strides) == 0 {
		o.Extractor.Strides = x.Strides
	}
	if o.Extractor.FinestScale == 0 {
		o.Extractor.FinestScale = x.FinestScale
	}
	o.Extractor.Legacy = h.Legacy
	if o.Head.InChannels == 0 {
		o.Head.InChannels = h.BBox.InChannels
	}
	if o.Head.NumClasses == 0 {
		o.Head.NumClasses = h.BBox.NumClasses
	}
	if o.Target == "" {
		o.Target = TargetMMDet
	}
	if o.Paste == "" {
		o.Paste = PasteMMDet
	}
	if o.Threshold == 0 {
		o.Threshold = 0.5
	}
	return o
}

func (h *RoIHead) addMaskBranch(e *tensor.Engine, o MaskOptions, rng *rand.Rand) error {
	if err := checkPasteMode(o.Paste); err != nil {
		return err
	}
	if _, err := targetCutter(o.Target); err != nil {
		return err
	}
	if o.MaxRoIsPerImage < 0 {
		return fmt.Errorf("mask RoIs per image %d: must be >= 0 (0: every positive)", o.MaxRoIsPerImage)
	}
	if o.Threshold < 0 || o.Threshold >= 1 {
		return fmt.Errorf("mask threshold %g outside [0, 1)", o.Threshold)
	}
	if o.Head.NumClasses != h.opt.BBox.NumClasses {
		return fmt.Errorf("mask head has %d classes, the box head %d", o.Head.NumClasses, h.opt.BBox.NumClasses)
	}
	mh, err := NewMaskHead(e, o.Head, rng)
	if err != nil {
		return err
	}
	h.MaskExtractor, h.MaskHead = NewRoIExtractor(o.Extractor), mh
	return nil
}

// MaskSize is the side of the mask branch's logit maps and targets (28),
// 0 without a mask branch.
func (h *RoIHead) MaskSize() int {
	if h.MaskHead == nil {
		return 0
	}
	return 2 * h.MaskExtractor.opt.OutputSize
}

// MaskLosses runs the mask branch on a sample's MaskPositives: "loss_mask",
// the binary cross-entropy of each positive's gt-class logit map against
// its target (maskTargets, in the Target mode), averaged over every pixel
// of the batch's positives together (maskLoss).
func (h *RoIHead) MaskLosses(feats []*tensor.Tensor, items []*batch.Item, s *SampledRoIs) (Losses, error) {
	pos := s.MaskPositives()
	e := feats[0].Engine()
	if len(pos.GTIndex) == 0 {
		return Losses{"loss_mask": zeroLoss(e, h.MaskHead.ConvLogits.Bias)}, nil
	}
	size := h.MaskSize()
	targets, err := maskTargets(items, pos, size, h.opt.Mask.Target)
	if err != nil {
		return nil, fmt.Errorf("mask targets: %w", err)
	}
	pooled, err := h.MaskExtractor.Forward(feats, pos.RoIs)
	if err != nil {
		return nil, fmt.Errorf("mask branch: %w", err)
	}
	return Losses{"loss_mask": maskLoss(h.MaskHead.Forward(pooled), pos.Labels, targets)}, nil
}

// maskLoss is the mean binary cross-entropy of each RoI's label channel of
// logits [R,K,S,S] against its target (R x S·S values), over all R·S·S
// values at once: MMDetection's mask_cross_entropy and torchvision's
// maskrcnn_loss both concatenate the batch's positives before the mean,
// so an image with more positives weighs more (unlike the box losses'
// per-image mean, package doc).
func maskLoss(logits *tensor.Tensor, labels []int32, targets []float32) *tensor.Tensor {
	maps := classMaps(logits, labels)
	return tensor.Mean(tensor.BCEWithLogits(maps, logits.Engine().FromData(targets, maps.Shape()...)))
}

// classMaps picks each RoI's logit map of its class: [R,K,S,S] to [R,S·S].
func classMaps(logits *tensor.Tensor, labels []int32) *tensor.Tensor {
	r, k, s := logits.Dim(0), logits.Dim(1), logits.Dim(2)*logits.Dim(3)
	rows := make([]int32, r)
	for i, l := range labels {
		rows[i] = int32(i*k) + l
	}
	return tensor.IndexSelect(tensor.Reshape(logits, r*k, s), 0, logits.Engine().NewIndex(rows, r))
}

// predictMasks runs the mask branch on the final detections (boxes in
// original pixels, pooled at the resized frame's scale as MMDetection v1)
// and sets each one's pasted, RLE-encoded mask.
func (h *RoIHead) predictMasks(feats []*tensor.Tensor, items []*batch.Item, dets []detection.Detections) error {
	var rois []float32
	var labels []int32
	for i, d := range dets {
		sx, sy := itemScale(items[i])
		for j := 0; j < d.Len(); j++ {
			b := d.Boxes[4*j : 4*j+4]
			rois = append(rois, float32(i), b[0]*sx, b[1]*sy, b[2]*sx, b[3]*sy)
		}
		labels = append(labels, d.Labels...)
		dets[i].Masks = []coco.RLE{}
	}
	if len(labels) == 0 {
		return nil
	}
	pooled, err := h.MaskExtractor.Forward(feats, rois)
	if err != nil {
		return fmt.Errorf("mask branch: %w", err)
	}
	probs := tensor.Sigmoid(classMaps(h.MaskHead.Forward(pooled), labels)).Data()
	s := h.MaskSize()
	first := make([]int, len(dets)+1) // first row of each image
	for i, d := range dets {
		first[i+1] = first[i] + d.Len()
	}
	return forEachImage(len(dets), func(i int) error {
		return h.pasteImage(&dets[i], items[i], probs[first[i]*s*s:first[i+1]*s*s], s)
	})
}

// pasteImage pastes one image's detection masks (n x s x s probabilities).
func (h *RoIHead) pasteImage(d *detection.Detections, it *batch.Item, probs []float32, s int) error {
	if d.Len() == 0 {
		return nil
	}
	if it.OrigW <= 0 || it.OrigH <= 0 {
		return fmt.Errorf("image %d: original size %dx%d unknown: masks cannot be pasted", it.ImageID, it.OrigW, it.OrigH)
	}
	p, err := newPaster(h.opt.Mask.Paste, float32(h.opt.Mask.Threshold), it.OrigH, it.OrigW)
	if err != nil {
		return err
	}
	d.Masks = make([]coco.RLE, d.Len())
	for j := range d.Masks {
		d.Masks[j] = p.paste(probs[j*s*s:(j+1)*s*s], s, d.Boxes[4*j:4*j+4])
	}
	return nil
}

// itemScale is the item's resize factors (1 when unknown).
func itemScale(it *batch.Item) (sx, sy float32) {
	sx, sy = it.ScaleX, it.ScaleY
	if sx <= 0 {
		sx = 1
	}
	if sy <= 0 {
		sy = 1
	}
	return sx, sy
}
