package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// RetinaHeadOptions configures RetinaNet's dense head.
// DefaultRetinaHeadOptions gives MMDetection's settings. NewRetinaHead takes
// the fields whose zero is a valid setting as given (StackedConvs 0: the
// classifiers on the pyramid directly; Gamma 0: alpha-weighted cross-entropy;
// Alpha 0; ScoreThr 0: keep every score; NMSThr; AllowedBorder) and fills
// in only those whose zero means nothing (marked "default" below).
type RetinaHeadOptions struct {
	InChannels   int // of the pyramid levels (> 0)
	FeatChannels int // of the stacked convs; default InChannels
	NumClasses   int // foreground classes K (> 0); no background output
	StackedConvs int // per branch (>= 0; MMDetection's 4)
	// Anchors; default RetinaAnchors (octave base scale 4, 3 scales per
	// octave, ratios 0.5/1/2, strides 8..128).
	Anchors *detection.AnchorGenerator
	// Coder; default means 0, stds 1.
	Coder *detection.BoxCoder
	// Gamma (>= 0) and Alpha (<= 1; negative: no weighting) of the focal
	// loss; MMDetection's 2 and 0.25.
	Gamma, Alpha float64
	// Loss of the regression; default smooth-L1 with beta 0.11.
	Loss     BoxLoss
	Assigner detection.MaxIoUAssigner // default RetinaAssigner
	// AllowedBorder: anchors crossing the image border by more pixels are
	// ignored in training; negative keeps all (RetinaNet's configs: -1).
	AllowedBorder float32
	// PriorProb sets the classifier's bias so every class starts at this
	// probability (the focal loss paper's π); default 0.01.
	PriorProb float64
	// NMSPre anchors per level kept at inference by their best class
	// score (default 1000); ScoreThr, NMSThr and MaxPerImg (default 100)
	// then post-process (MMDetection's 0.05 and 0.5).
	NMSPre int
	// TopPairs selects as torchvision's postprocess_detections instead:
	// per level the NMSPre best (anchor, class) pairs scoring above
	// ScoreThr, rather than the NMSPre anchors of best class score.
	TopPairs  bool
	ScoreThr  float64
	NMSThr    float64
	MaxPerImg int
	Legacy    bool
}

// DefaultRetinaHeadOptions returns MMDetection v1.0's RetinaHead for
// inChannels pyramid channels and numClasses classes.
func DefaultRetinaHeadOptions(inChannels, numClasses int) RetinaHeadOptions {
	return RetinaHeadOptions{InChannels: inChannels, NumClasses: numClasses, StackedConvs: 4,
		Gamma: 2, Alpha: 0.25, AllowedBorder: -1, ScoreThr: 0.05, NMSThr: 0.5}.withDefaults()
}

// OctaveScales are the anchor scales base·2^(k/n), k < n: RetinaNet's
// octave_base_scale and scales_per_octave.
func OctaveScales(base float64, n int) []float64 {
	s := make([]float64, n)
	for k := range s {
		s[k] = base * math.Pow(2, float64(k)/float64(n))
	}
	return s
}

// RetinaAnchors returns MMDetection's RetinaNet anchors: sizes
// stride·4·2^(k/3), ratios 0.5, 1, 2, strides 8 to 128 (9 per location).
func RetinaAnchors() detection.AnchorGenerator {
	return detection.AnchorGenerator{
		Strides: []int{8, 16, 32, 64, 128},
		Scales:  OctaveScales(4, 3),
		Ratios:  []float64{0.5, 1, 2},
	}
}

// RetinaAssigner is RetinaNet's MaxIoUAssigner: pos 0.5, neg 0.4, min pos
// 0 (every gt keeps its best anchor), no ignore regions.
func RetinaAssigner() detection.MaxIoUAssigner {
	return detection.MaxIoUAssigner{PosIoUThr: 0.5, NegIoUThr: 0.4, MinPosIoU: 0,
		MatchLowQuality: true, GtMaxAssignAll: true, IgnoreIoFThr: -1}
}

func (o RetinaHeadOptions) withDefaults() RetinaHeadOptions {
	if o.FeatChannels == 0 {
		o.FeatChannels = o.InChannels
	}
	if o.Anchors == nil {
		a := RetinaAnchors()
		o.Anchors = &a
	}
	if o.Coder == nil {
		c := detection.RPNBoxCoder()
		c.Legacy = o.Legacy
		o.Coder = &c
	}
	if o.Loss == (BoxLoss{}) {
		o.Loss = BoxLoss{Type: LossSmoothL1, Beta: 0.11}
	}
	if o.Assigner == (detection.MaxIoUAssigner{}) {
		o.Assigner = RetinaAssigner()
		o.Assigner.Legacy = o.Legacy
	}
	if o.PriorProb == 0 {
		o.PriorProb = 0.01
	}
	if o.NMSPre == 0 {
		o.NMSPre = 1000
	}
	if o.MaxPerImg == 0 {
		o.MaxPerImg = 100
	}
	return o
}

// RetinaHead is MMDetection's RetinaHead: per branch (classification,
// regression) StackedConvs 3x3 convs with ReLU shared over the levels, then
// per anchor K sigmoid class logits and 4 box deltas.
type RetinaHead struct {
	ClsConvs []*nn.Conv2d
	RegConvs []*nn.Conv2d
	Cls      *nn.Conv2d
	Reg      *nn.Conv2d
	opt      RetinaHeadOptions
	grid     anchorCache
	// scores is Detect's host copy of the class scores, kept between
	// calls: at 1333x800 it is 16M values (64 MB) per image, which a fresh
	// slice per call leaves to the garbage collector, so each predict
	// raised the peak resident set by that much until a collection ran.
	scores []float32
}

// NewRetinaHead builds the head with MMDetection's initialisation: convs
// N(0, 0.01²), biases 0 but the classifier's, −log((1−π)/π), so the loss of
// the many background anchors does not swamp the first iterations.
func NewRetinaHead(e *tensor.Engine, opt RetinaHeadOptions, rng *rand.Rand) (*RetinaHead, error) {
	opt = opt.withDefaults()
	if err := opt.validate(); err != nil {
		return nil, fmt.Errorf("retina head: %w", err)
	}
	conv := func(in, out int) *nn.Conv2d {
		c := nn.NewConv2d(e, nn.Conv2dConfig{In: in, Out: out, Kernel: 3, Padding: 1, Bias: true})
		nn.Normal(c.Weight, rng, 0, 0.01)
		return c
	}
	h := &RetinaHead{opt: opt, grid: anchorCache{}}
	for i := 0; i < opt.StackedConvs; i++ {
		in := opt.FeatChannels
		if i == 0 {
			in = opt.InChannels
		}
		h.ClsConvs = append(h.ClsConvs, conv(in, opt.FeatChannels))
		h.RegConvs = append(h.RegConvs, conv(in, opt.FeatChannels))
	}
	a, in := opt.Anchors.NumBaseAnchors(), opt.FeatChannels
	if opt.StackedConvs == 0 {
		in = opt.InChannels
	}
	h.Cls = conv(in, a*opt.NumClasses)
	h.Reg = conv(in, a*4)
	nn.Constant(h.Cls.Bias, float32(-math.Log((1-opt.PriorProb)/opt.PriorProb)))
	return h, nil
}

func (o RetinaHeadOptions) validate() error {
	switch {
	case o.InChannels <= 0:
		return fmt.Errorf("%d input channels", o.InChannels)
	case o.NumClasses <= 0:
		return fmt.Errorf("%d classes", o.NumClasses)
	case o.StackedConvs < 0:
		return fmt.Errorf("%d stacked convs", o.StackedConvs)
	case o.Gamma < 0:
		return fmt.Errorf("focal loss gamma %g < 0", o.Gamma)
	case o.Alpha > 1:
		return fmt.Errorf("focal loss alpha %g > 1", o.Alpha)
	case o.PriorProb <= 0 || o.PriorProb >= 1:
		return fmt.Errorf("prior probability %g outside (0, 1)", o.PriorProb)
	}
	if err := o.Anchors.Validate(); err != nil {
		return err
	}
	if err := o.Loss.validate(); err != nil {
		return err
	}
	return o.Assigner.Validate()
}

// Params implements nn.Module.
func (h *RetinaHead) Params() []nn.Named { return nil }

// Buffers implements nn.Module.
func (h *RetinaHead) Buffers() []nn.Named { return nil }

// Children implements nn.Module with MMDetection's names (cls_convs.i.conv,
// reg_convs.i.conv, retina_cls, retina_reg).
func (h *RetinaHead) Children() []nn.Child {
	var out []nn.Child
	for i, c := range h.ClsConvs {
		out = append(out, nn.Child{Name: fmt.Sprintf("cls_convs.%d.conv", i), Module: c})
	}
	for i, c := range h.RegConvs {
		out = append(out, nn.Child{Name: fmt.Sprintf("reg_convs.%d.conv", i), Module: c})
	}
	return append(out, nn.Child{Name: "retina_cls", Module: h.Cls}, nn.Child{Name: "retina_reg", Module: h.Reg})
}

// DenseOutput is a dense head's output over all levels in anchor order
// (detection.AnchorGenerator: level, then location row-major, then anchor).
type DenseOutput struct {
	Logits *tensor.Tensor // [B, N, K] class logits (sigmoid gives the scores)
	Deltas *tensor.Tensor // [B, 4N] box deltas, 4 per anchor
	Sizes  [][2]int       // (H, W) of each level
	Counts []int          // anchors of each level
}

// Forward runs the head on the first len(Strides) pyramid levels.
func (h *RetinaHead) Forward(feats []*tensor.Tensor) (DenseOutput, error) {
	nl := h.opt.Anchors.NumLevels()
	if len(feats) < nl {
		return DenseOutput{}, fmt.Errorf("retina head: %d feature levels for %d anchor strides", len(feats), nl)
	}
	a, k := h.opt.Anchors.NumBaseAnchors(), h.opt.NumClasses
	var out DenseOutput
	logits := make([]*tensor.Tensor, nl)
	deltas := make([]*tensor.Tensor, nl)
	var permuted []*tensor.Tensor // owners of logits' and deltas' buffers
	for l := 0; l < nl; l++ {
		c, r := branch(h.ClsConvs, feats[l]), branch(h.RegConvs, feats[l])
		b, hh, ww := c.Dim(0), c.Dim(2), c.Dim(3)
		cl, rg := locationMajor(h.Cls.Forward(c)), locationMajor(h.Reg.Forward(r))
		drop(c, r)
		logits[l] = tensor.Reshape(cl, b, hh*ww*a, k)
		deltas[l] = tensor.Reshape(rg, b, hh*ww*a*4)
		permuted = append(permuted, cl, rg)
		out.Sizes = append(out.Sizes, [2]int{hh, ww})
		out.Counts = append(out.Counts, hh*ww*a)
	}
	out.Logits = tensor.Concat(1, logits...)
	out.Deltas = tensor.Concat(1, deltas...)
	// At inference the per-level copies would otherwise stay until the
	// batch ends, and the classification ones are as large as out.Logits.
	drop(permuted...)
	return out, nil
}

// locationMajor permutes a head layer's output [B,A·K,H,W] to
// [B,H,W,A·K] (location-major, anchor, then class: the anchor generator's
// order, and torchvision's) and, at inference, frees the layer's output.
func locationMajor(y *tensor.Tensor) *tensor.Tensor {
	p := tensor.Permute(y, 0, 2, 3, 1)
	drop(y)
	return p
}

// branch runs a stack of 3x3 convs with ReLU, in place: a conv's backward
// does not read its output, and inference drops only the ReLU's.
func branch(convs []*nn.Conv2d, x *tensor.Tensor) *tensor.Tensor {
	y := x
	for _, c := range convs {
		next := tensor.ReluInPlace(c.Forward(y))
		if y != x {
			drop(y)
		}
		y = next
	}
	return y
}

// Losses assigns every anchor of each image (no sampling) and returns
// "loss_cls", the sigmoid focal loss over all non-ignored anchors, and
// "loss_bbox", the regression loss over the positive ones. Both are
// divided by the image's number of positive anchors (at least 1) and
// averaged over the images, as torchvision does; MMDetection divides the
// batch's sum by the batch's positives (see the package doc's Losses).
func (h *RetinaHead) Losses(out DenseOutput, items []*batch.Item) (Losses, error) {
	e := out.Logits.Engine()
	b, n, k := out.Logits.Dim(0), out.Logits.Dim(1), out.Logits.Dim(2)
	labels := make([]int32, b*n)
	clsW := make([]float32, b*n)
	targets := make([]float32, 4*b*n)
	regW := make([]float32, 4*b*n)
	anchors := h.grid.levels(h.opt.Anchors, out.Sizes)
	err := forEachImage(len(items), func(i int) error {
		t := anchorTargets{labels[i*n : (i+1)*n], clsW[i*n : (i+1)*n], targets[4*i*n : 4*(i+1)*n], regW[4*i*n : 4*(i+1)*n]}
		if err := h.imageTargets(out, anchors, items[i], len(items), t); err != nil {
			return fmt.Errorf("retina targets: image %d: %w", items[i].ImageID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	focal := tensor.SigmoidFocalLoss(tensor.Reshape(out.Logits, b*n, k), e.NewIndex(labels, b*n), float32(h.opt.Gamma), float32(h.opt.Alpha))
	cls := tensor.Sum(tensor.Mul(focal, e.FromData(clsW, b*n)))
	l := h.opt.Loss.elementwise(out.Deltas, e.FromData(targets, b, 4*n))
	reg := tensor.Sum(tensor.Mul(l, e.FromData(regW, b, 4*n)))
	return Losses{"loss_cls": cls, "loss_bbox": reg}, nil
}

// anchorTargets are one image's rows of the loss inputs: per anchor its
// focal-loss label (class, K for background, -1 ignored) and weight, and
// its regression target and weights.
type anchorTargets struct {
	labels  []int32
	clsW    []float32
	targets []float32
	regW    []float32
}

// imageTargets assigns one image's anchors and fills its targets.
func (h *RetinaHead) imageTargets(out DenseOutput, levels [][]float32, it *batch.Item, numImages int, t anchorTargets) error {
	gt, err := splitGT(it, h.opt.NumClasses)
	if err != nil {
		return err
	}
	anchors, idx := h.usableAnchors(out, levels, it)
	as, err := h.opt.Assigner.Assign(anchors, gt.boxes, gt.labels, gt.crowd)
	if err != nil {
		return err
	}
	var pos, posGt []int
	for q, g := range as.GtIndex {
		if g >= 0 {
			pos, posGt = append(pos, q), append(posGt, g)
		}
	}
	for j := range t.labels {
		t.labels[j] = -1
	}
	w := 1 / float32(max(len(pos), 1)*numImages)
	for q, g := range as.GtIndex {
		if g == detection.Negative {
			t.labels[idx[q]], t.clsW[idx[q]] = int32(h.opt.NumClasses), w
		}
	}
	deltas := h.opt.Coder.Encode(detection.GatherBoxes(anchors, pos), detection.GatherBoxes(gt.boxes, posGt))
	for m, q := range pos {
		j := idx[q]
		t.labels[j], t.clsW[j] = int32(gt.labels[posGt[m]]), w
		copy(t.targets[4*j:4*j+4], deltas[4*m:4*m+4])
		t.regW[4*j], t.regW[4*j+1], t.regW[4*j+2], t.regW[4*j+3] = w, w, w, w
	}
	return nil
}

// usableAnchors returns the anchors of an image that take part in
// training, those on the image (not its padding) within AllowedBorder, and
// their indices among all anchors.
func (h *RetinaHead) usableAnchors(out DenseOutput, levels [][]float32, it *batch.Item) ([]float32, []int) {
	var anchors []float32
	var valid []bool
	for l, s := range out.Sizes {
		anchors = append(anchors, levels[l]...)
		valid = append(valid, h.opt.Anchors.ValidFlags(l, s[0], s[1], it.H, it.W)...)
	}
	var idx []int
	for j, ok := range detection.InsideFlags(anchors, valid, it.H, it.W, h.opt.AllowedBorder) {
		if ok {
			idx = append(idx, j)
		}
	}
	return detection.GatherBoxes(anchors, idx), idx
}

// Detect turns the head's output into each image's detections in the
// resized frame: per level the NMSPre anchors with the best class score
// (or, with TopPairs, the best pairs), decoded and clipped, then class-wise
// NMS over all levels (MMDetection's get_bboxes). Run it with grad off.
func (h *RetinaHead) Detect(out DenseOutput, items []*batch.Item) []detection.Detections {
	sig := tensor.Sigmoid(out.Logits)
	h.scores = hostCopy(h.scores, sig)
	drop(sig)
	scores := h.scores
	deltas := out.Deltas.Data()
	n, k := out.Logits.Dim(1), out.Logits.Dim(2)
	anchors := h.grid.levels(h.opt.Anchors, out.Sizes)
	res := make([]detection.Detections, len(items))
	_ = forEachImage(len(items), func(i int) error {
		var boxes, sc []float32
		var classes []int
		off := 0
		for l, c := range out.Counts {
			s := scores[(i*n+off)*k : (i*n+off+c)*k]
			rows, cl, ks := h.candidates(s, k)
			d := detection.GatherBoxes(deltas[4*(i*n+off):4*(i*n+off+c)], rows)
			boxes = append(boxes, h.opt.Coder.DecodeClipped(detection.GatherBoxes(anchors[l], rows), d, items[i].H, items[i].W)...)
			sc, classes = append(sc, ks...), append(classes, cl...)
			off += c
		}
		res[i] = detection.CandidateNMS(boxes, sc, classes, h.opt.NMSThr, h.opt.MaxPerImg, h.opt.Legacy)
		return nil
	})
	return res
}

// hostCopy downloads t into dst, reusing dst's array when it is large
// enough (Tensor.Data allocates a new one each time).
func hostCopy(dst []float32, t *tensor.Tensor) []float32 {
	n := t.Len()
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	t.Engine().Device().Download(dst, t.Buffer())
	return dst
}

// candidates lists a level's (anchor, class) pairs that go to NMS, with
// their scores [c,k]: those above ScoreThr among the NMSPre best anchors,
// or with TopPairs the NMSPre best pairs above ScoreThr.
func (h *RetinaHead) candidates(scores []float32, k int) (rows, classes []int, kept []float32) {
	if !h.opt.TopPairs {
		top := topAnchors(scores, k, h.opt.NMSPre)
		r, cl, ks := detection.ScoreCandidates(gatherRows(scores, k, top), k, 0, h.opt.ScoreThr)
		for j := range r {
			r[j] = top[r[j]]
		}
		return r, cl, ks
	}
	r, cl, ks := detection.ScoreCandidates(scores, k, 0, h.opt.ScoreThr)
	for _, j := range detection.TopK(ks, h.opt.NMSPre) {
		rows, classes, kept = append(rows, r[j]), append(classes, cl[j]), append(kept, ks[j])
	}
	return rows, classes, kept
}

// gatherRows returns the rows idx of x [n,k].
func gatherRows(x []float32, k int, idx []int) []float32 {
	out := make([]float32, 0, k*len(idx))
	for _, j := range idx {
		out = append(out, x[j*k:(j+1)*k]...)
	}
	return out
}

// topAnchors returns the indices of the (at most) m rows of scores [n,k]
// with the highest maximum over classes, by decreasing maximum.
func topAnchors(scores []float32, k, m int) []int {
	n := len(scores) / k
	if n <= m {
		idx := make([]int, n)
		for j := range idx {
			idx[j] = j
		}
		return idx
	}
	best := make([]float32, n)
	for j := range best {
		best[j] = slices.Max(scores[j*k : (j+1)*k])
	}
	return detection.TopK(best, m)
}
