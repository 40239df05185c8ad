package detector

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// Box regression loss kinds.
const (
	LossSmoothL1 = "smooth_l1"
	LossL1       = "l1"
)

// BoxLoss is a box regression loss: smooth-L1 with transition Beta, or L1.
type BoxLoss struct {
	Type string  // LossSmoothL1 (default) or LossL1
	Beta float64 // smooth-L1 transition point; default 1
}

// elementwise returns the per-element loss of pred against target.
func (l BoxLoss) elementwise(pred, target *tensor.Tensor) *tensor.Tensor {
	if l.Type == LossL1 {
		return tensor.L1Loss(pred, target)
	}
	beta := l.Beta
	if beta == 0 {
		beta = 1
	}
	return tensor.SmoothL1Loss(pred, target, float32(beta))
}

func (l BoxLoss) validate() error {
	if l.Type != "" && l.Type != LossSmoothL1 && l.Type != LossL1 {
		return fmt.Errorf("box loss %q: want %q or %q", l.Type, LossSmoothL1, LossL1)
	}
	if l.Beta < 0 {
		return fmt.Errorf("box loss beta %g < 0", l.Beta)
	}
	return nil
}

// RoIHeadOptions configures the second stage.
type RoIHeadOptions struct {
	Extractor RoIExtractorOptions
	BBox      BBoxHeadOptions
	// Coder normalises the regression targets; default means 0, stds 0.1,
	// 0.1, 0.2, 0.2 (detection.RoIBoxCoder).
	Coder    *detection.BoxCoder
	Loss     BoxLoss
	Assigner detection.MaxIoUAssigner // default detection.RCNNAssigner
	Sampler  detection.RandomSampler  // default detection.RCNNSampler
	// ScoreThr, NMSThr and MaxPerImg post-process detections: ScoreThr 0
	// keeps every positive score (configs default to 0.05, as MMDetection);
	// NMSThr and MaxPerImg default to 0.5 and 100.
	ScoreThr  float64
	NMSThr    float64
	MaxPerImg int
	// MinBoxSize drops detections with a side under it before NMS (0:
	// none, as MMDetection; torchvision drops sides under 1e-2 px, boxes
	// that clipping flattened, which would take detection slots).
	MinBoxSize float32
	// Legacy selects MMDetection v0's +1 pixel convention for every part
	// (extractor level mapping, default coder and assigner, NMS).
	Legacy bool
	// Mask adds the instance-mask branch (Mask R-CNN); nil for a box-only
	// head.
	Mask *MaskOptions
}

func (o RoIHeadOptions) withDefaults() RoIHeadOptions {
	if o.Coder == nil {
		c := detection.RoIBoxCoder()
		c.Legacy = o.Legacy
		o.Coder = &c
	}
	if o.Assigner == (detection.MaxIoUAssigner{}) {
		o.Assigner = detection.RCNNAssigner()
		o.Assigner.Legacy = o.Legacy
	}
	if o.Sampler == (detection.RandomSampler{}) {
		o.Sampler = detection.RCNNSampler()
	}
	if o.NMSThr == 0 {
		o.NMSThr = 0.5
	}
	if o.MaxPerImg == 0 {
		o.MaxPerImg = 100
	}
	o.Extractor.Legacy = o.Legacy
	if o.Mask != nil {
		m := o.Mask.withDefaults(o)
		o.Mask = &m
	}
	return o
}

// RoIHead pools proposals from the pyramid and classifies and refines them.
type RoIHead struct {
	Extractor *RoIExtractor
	BBoxHead  *BBoxHead
	// MaskExtractor and MaskHead are the mask branch; nil without one.
	MaskExtractor *RoIExtractor
	MaskHead      *MaskHead
	opt           RoIHeadOptions
}

// NewRoIHead builds the RoI head; the box head's InChannels must be the
// pyramid's channels.
func NewRoIHead(e *tensor.Engine, opt RoIHeadOptions, rng *rand.Rand) (*RoIHead, error) {
	opt = opt.withDefaults()
	if opt.BBox.RoISize == 0 {
		opt.BBox.RoISize = opt.Extractor.withDefaults().OutputSize
	}
	if err := opt.Loss.validate(); err != nil {
		return nil, fmt.Errorf("roi head: %w", err)
	}
	if err := opt.Assigner.Validate(); err != nil {
		return nil, fmt.Errorf("roi head: %w", err)
	}
	if err := opt.Sampler.Validate(); err != nil {
		return nil, fmt.Errorf("roi head: %w", err)
	}
	bh, err := NewBBoxHead(e, opt.BBox, rng)
	if err != nil {
		return nil, fmt.Errorf("roi head: %w", err)
	}
	h := &RoIHead{Extractor: NewRoIExtractor(opt.Extractor), BBoxHead: bh, opt: opt}
	if opt.Mask != nil {
		if err := h.addMaskBranch(e, *opt.Mask, rng); err != nil {
			return nil, fmt.Errorf("roi head: %w", err)
		}
	}
	return h, nil
}

// Params implements nn.Module.
func (h *RoIHead) Params() []nn.Named { return nil }

// Buffers implements nn.Module.
func (h *RoIHead) Buffers() []nn.Named { return nil }

// Children implements nn.Module.
func (h *RoIHead) Children() []nn.Child {
	c := []nn.Child{{Name: "bbox_head", Module: h.BBoxHead}}
	if h.MaskHead != nil {
		c = append(c, nn.Child{Name: "mask_head", Module: h.MaskHead})
	}
	return c
}

// roiTargets are what the box branch must predict for a sample.
type roiTargets struct {
	rois       []float32 // R x 5
	labels     []int32   // R: gt label or K (background)
	regCols    []int32   // R x 4: regressor columns of the positive's class
	regTargets []float32 // R x 4: encoded gt deltas (0 for negatives)
	clsWeight  []float32 // R: 1/(samples of the image · B)
	regWeight  []float32 // R x 4: clsWeight for positives, 0 otherwise
}

// boxTargets encodes the positives' gt boxes and sorts the rows by level.
func (h *RoIHead) boxTargets(s *SampledRoIs) roiTargets {
	pos := s.Positives()
	deltas := h.opt.Coder.Encode(roiBoxes(pos.RoIs), pos.GTBoxes)
	var t roiTargets
	j := 0 // positives seen
	for r, label := range s.Labels {
		w := s.Weights[r]
		t.rois = append(t.rois, s.RoIs[5*r:5*r+5]...)
		t.labels = append(t.labels, label)
		t.clsWeight = append(t.clsWeight, w)
		if s.GTIndex[r] < 0 {
			t.regCols = append(t.regCols, 0, 1, 2, 3)
			t.regTargets = append(t.regTargets, 0, 0, 0, 0)
			t.regWeight = append(t.regWeight, 0, 0, 0, 0)
			continue
		}
		col := int32(0)
		if !h.opt.BBox.RegClassAgnostic {
			col = 4 * label
		}
		t.regCols = append(t.regCols, col, col+1, col+2, col+3)
		t.regTargets = append(t.regTargets, deltas[4*j:4*j+4]...)
		t.regWeight = append(t.regWeight, w, w, w, w)
		j++
	}
	x := h.Extractor.opt
	return t.sortedByLevel(detection.MapRoILevels(t.rois, len(x.Strides), x.FinestScale, x.Legacy))
}

// roiBoxes drops the image index column of R x 5 RoIs.
func roiBoxes(rois []float32) []float32 {
	out := make([]float32, 0, len(rois)/5*4)
	for i := 0; i+5 <= len(rois); i += 5 {
		out = append(out, rois[i+1:i+5]...)
	}
	return out
}

// sortedByLevel reorders the RoIs (stably) by pyramid level. The loss is a
// sum over RoIs, so order does not change it, and level-sorted RoIs let the
// extractor pool and back-propagate each level's rows in place.
func (t roiTargets) sortedByLevel(levels []int) roiTargets {
	perm := make([]int, len(levels))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return levels[a] - levels[b] })
	out := roiTargets{
		rois:       make([]float32, 0, len(t.rois)),
		labels:     make([]int32, 0, len(t.labels)),
		regCols:    make([]int32, 0, len(t.regCols)),
		regTargets: make([]float32, 0, len(t.regTargets)),
		clsWeight:  make([]float32, 0, len(t.clsWeight)),
		regWeight:  make([]float32, 0, len(t.regWeight)),
	}
	for _, i := range perm {
		out.rois = append(out.rois, t.rois[5*i:5*i+5]...)
		out.labels = append(out.labels, t.labels[i])
		out.regCols = append(out.regCols, t.regCols[4*i:4*i+4]...)
		out.regTargets = append(out.regTargets, t.regTargets[4*i:4*i+4]...)
		out.clsWeight = append(out.clsWeight, t.clsWeight[i])
		out.regWeight = append(out.regWeight, t.regWeight[4*i:4*i+4]...)
	}
	return out
}

// Losses is the head's training pass: it samples RoIs from proposals (one
// xyxy slice per image, in the resized frame), then runs each branch on the
// sample and merges their named losses: the box branch on all of it, the
// mask branch (when there is one) on its positives.
func (h *RoIHead) Losses(feats []*tensor.Tensor, items []*batch.Item, proposals [][]float32, rngs []*rand.Rand) (Losses, error) {
	s, err := h.Sample(items, proposals, rngs)
	if err != nil {
		return nil, err
	}
	box, err := h.BoxLosses(feats, s)
	if err != nil {
		return nil, err
	}
	if h.MaskHead == nil {
		return box, nil
	}
	mask, err := h.MaskLosses(feats, items, s)
	if err != nil {
		return nil, err
	}
	return MergeLosses(box, mask)
}

// BoxLosses runs the box branch on a sample: "loss_cls", the cross-entropy
// over all sampled RoIs, and "loss_bbox", the box loss over the positives,
// each weighted by the sample's Weights.
func (h *RoIHead) BoxLosses(feats []*tensor.Tensor, s *SampledRoIs) (Losses, error) {
	t := h.boxTargets(s)
	e := feats[0].Engine()
	r := len(t.labels)
	if r == 0 {
		// No RoI in the whole batch (no proposals, no gts): zero losses that
		// still reach the graph, so a training step can run Backward.
		z := zeroLoss(e, h.BBoxHead.FCCls.Bias)
		return Losses{"loss_cls": z, "loss_bbox": z}, nil
	}
	pooled, err := h.Extractor.Forward(feats, t.rois)
	if err != nil {
		return nil, err
	}
	logits, deltas := h.BBoxHead.Forward(pooled)
	ce := tensor.SoftmaxCrossEntropy(logits, e.NewIndex(t.labels, r), tensor.IgnoreIndex)
	cls := tensor.Sum(tensor.Mul(ce, e.FromData(t.clsWeight, r)))
	pred := tensor.Gather(deltas, e.NewIndex(t.regCols, r, 4))
	l := h.opt.Loss.elementwise(pred, e.FromData(t.regTargets, r, 4))
	reg := tensor.Sum(tensor.Mul(l, e.FromData(t.regWeight, r, 4)))
	return Losses{"loss_cls": cls, "loss_bbox": reg}, nil
}

// Predict classifies and refines each image's proposals and returns its
// detections in original image pixels. Run it with grad mode off.
func (h *RoIHead) Predict(feats []*tensor.Tensor, items []*batch.Item, proposals [][]float32) ([]detection.Detections, error) {
	if len(proposals) != len(items) {
		return nil, fmt.Errorf("roi head: %d proposal sets for %d images", len(proposals), len(items))
	}
	var rois []float32
	for i, p := range proposals {
		for j := 0; j < len(p)/4; j++ {
			rois = append(rois, float32(i))
			rois = append(rois, p[4*j:4*j+4]...)
		}
	}
	out := make([]detection.Detections, len(items))
	if len(rois) == 0 {
		return out, nil
	}
	pooled, err := h.Extractor.Forward(feats, rois)
	if err != nil {
		return nil, err
	}
	logits, deltas := h.BBoxHead.Forward(pooled)
	probs := tensor.Softmax(logits).Data()
	regs := deltas.Data()
	k, kr := h.opt.BBox.NumClasses, 4*h.BBoxHead.numRegClasses()
	rows := make([]int, len(items)+1) // first RoI row of each image
	for i := range items {
		rows[i+1] = rows[i] + len(proposals[i])/4
	}
	_ = forEachImage(len(items), func(i int) error {
		it, row, n := items[i], rows[i], rows[i+1]-rows[i]
		// As MMDetection's multiclass_nms, but only the (RoI, class) pairs
		// above the score threshold are decoded: the same boxes, without
		// decoding the tens of thousands that the threshold drops.
		imgProbs := probs[row*(k+1) : (row+n)*(k+1)]
		cand, classes, scores := detection.ScoreCandidates(imgProbs, k, 1, h.opt.ScoreThr) // background last
		ref, deltas := make([]float32, 0, 4*len(cand)), make([]float32, 0, 4*len(cand))
		for j, r := range cand {
			c := classes[j]
			if kr == 4 { // class-agnostic regression
				c = 0
			}
			ref = append(ref, proposals[i][4*r:4*r+4]...)
			o := (row+r)*kr + 4*c
			deltas = append(deltas, regs[o:o+4]...)
		}
		boxes := h.opt.Coder.DecodeClipped(ref, deltas, it.H, it.W)
		if h.opt.MinBoxSize > 0 {
			keep := detection.RemoveSmallBoxes(boxes, h.opt.MinBoxSize, detection.AtLeast, h.opt.Legacy)
			boxes, scores, classes = detection.GatherBoxes(boxes, keep), detection.Gather(scores, keep), detection.Gather(classes, keep)
		}
		d := detection.CandidateNMS(boxes, scores, classes, h.opt.NMSThr, h.opt.MaxPerImg, h.opt.Legacy)
		out[i] = toOriginal(d, it)
		return nil
	})
	if h.MaskHead != nil {
		if err := h.predictMasks(feats, items, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// zeroLoss is a scalar 0 that depends on p when p is trainable (so Backward
// works and p's gradient is 0), and a constant otherwise.
func zeroLoss(e *tensor.Engine, p *tensor.Tensor) *tensor.Tensor {
	if p == nil || !p.RequiresGrad() || !e.GradEnabled() {
		return e.Zeros()
	}
	return tensor.Scale(tensor.Sum(p), 0)
}
