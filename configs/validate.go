package configs

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/detflow/detflow/zoo"
)

// checker collects broken rules, each reported at the key it concerns with
// the key's value and the place that value was set.
type checker struct {
	values map[string]string
	origin map[string]string
	errs   []*Error
}

func (c *checker) check(ok bool, key, rule string, args ...any) {
	if ok {
		return
	}
	value := c.values[key]
	if value == "" {
		value = `""`
	}
	c.errs = append(c.errs, errorf(c.origin[key], key, "%s = %s: %s", key, value, fmt.Sprintf(rule, args...)))
}

func (c *checker) oneOf(key, value string, allowed ...string) {
	c.check(slices.Contains(allowed, value), key, "must be one of %s", strings.Join(allowed, ", "))
}

var runName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validate checks value ranges and the rules that tie keys together.
func (cfg *Config) validate() error {
	values, err := cfg.Values()
	if err != nil {
		return err
	}
	c := &checker{values: values, origin: cfg.origin}
	c.check(runName.MatchString(cfg.Name), "name", "must be letters, digits, '.', '_' or '-', starting with a letter or digit (it names the run directory)")
	c.oneOf("pipeline", cfg.Pipeline, zoo.PipelineNames()...)
	p, _ := zoo.LookupPipeline(cfg.Pipeline) // unknown: reported above, the zero value checks the rest
	cfg.Dataset.validate(c)
	cfg.Model.validate(c, p)
	cfg.TrainCfg.validate(c)
	cfg.TestCfg.validate(c)
	if m, _ := zoo.LookupModel(cfg.Model.Type); m.MaskHead {
		cfg.validateMaskCfg(c)
	}
	if p.Has(zoo.StageProposals) {
		cfg.Proposals.validate(c)
	}
	c.check(cfg.Records.ShardSize > 0, "records.shard_size", "must be > 0")
	cfg.Data.validate(c)
	cfg.Train.validate(c)
	cfg.checkLoadFrom(c)
	cfg.Evaluate.validate(c, p)
	if len(c.errs) > 0 {
		return &ValidationError{Name: cfg.Name, Errs: c.errs}
	}
	return nil
}

func (d Dataset) validate(c *checker) {
	c.oneOf("dataset.source", d.Source, "synthetic", "coco")
	switch d.Source {
	case "coco":
		c.check(d.TrainAnn != "", "dataset.train_ann", "must name a file when dataset.source is coco")
		c.check(d.TrainImages != "", "dataset.train_images", "must name a folder when dataset.source is coco")
		c.check(d.ValAnn != "", "dataset.val_ann", "must name a file when dataset.source is coco")
		c.check(d.ValImages != "", "dataset.val_images", "must name a folder when dataset.source is coco")
		c.check(d.MaxPixels > 0, "dataset.max_pixels", "must be > 0")
	case "synthetic":
		s := d.Synthetic
		c.check(s.Train > 0, "dataset.synthetic.train", "must be > 0")
		c.check(s.Val > 0, "dataset.synthetic.val", "must be > 0")
		c.check(s.Width >= 32, "dataset.synthetic.width", "must be >= 32")
		c.check(s.Height >= 32, "dataset.synthetic.height", "must be >= 32")
	}
}

func (m Model) validate(c *checker, p zoo.Pipeline) {
	c.oneOf("model.conventions", m.Conventions, ConventionsMMDet, ConventionsTorchvision)
	c.check(!m.Torchvision() || !m.LegacyPlusOne, "model.legacy_plus_one",
		"is MMDetection v0's +1 box convention; model.conventions torchvision has none")
	c.oneOf("model.type", m.Type, zoo.ModelTypes()...)
	if p.Model != "" {
		c.check(m.Type == p.Model, "model.type", "pipeline %s needs model type %s", p.Name, p.Model)
	}
	m.Backbone.validate(c)
	m.Neck.validate(c, m.Backbone)
	heads, _ := zoo.LookupModel(m.Type)
	if heads.RPNHead {
		m.RPNHead.validate(c, m.Neck)
	}
	if heads.RoIHead {
		m.RoIHead.validate(c, m.Neck)
	}
	if heads.MaskHead {
		m.RoIHead.validateMask(c, m.Neck)
	}
	if heads.DenseHead {
		m.BBoxHead.validate(c, m.Neck)
	}
}

func (h DenseHead) validate(c *checker, n Neck) {
	const k = "model.bbox_head."
	c.check(h.NumClasses > 0, k+"num_classes", "must be > 0 (object categories)")
	c.check(h.StackedConvs >= 0, k+"stacked_convs", "must be >= 0")
	c.check(h.FeatChannels > 0, k+"feat_channels", "must be > 0")
	c.check(h.OctaveBaseScale > 0, k+"octave_base_scale", "must be > 0")
	c.check(h.ScalesPerOctave > 0, k+"scales_per_octave", "must be > 0")
	c.check(len(h.AnchorRatios) > 0 && allPositive(h.AnchorRatios), k+"anchor_ratios", "must be a non-empty list of numbers > 0")
	c.check(len(h.AnchorStrides) == n.NumOuts && powersOfTwo(h.AnchorStrides), k+"anchor_strides",
		"must be %d increasing powers of two, one per pyramid level (model.neck.num_outs)", n.NumOuts)
	c.check(len(h.TargetMeans) == 4, k+"target_means", "must have 4 numbers")
	c.check(len(h.TargetStds) == 4 && allPositive(h.TargetStds), k+"target_stds", "must have 4 numbers > 0")
	c.check(h.LossCls.Gamma >= 0, k+"loss_cls.gamma", "must be >= 0")
	c.check(h.LossCls.Alpha == -1 || inUnit(h.LossCls.Alpha), k+"loss_cls.alpha", "must be in [0, 1], or -1 for none")
	h.LossBBox.validate(c, k+"loss_bbox")
}

func (b Backbone) validate(c *checker) {
	c.oneOf("model.backbone.type", b.Type, "ResNet")
	c.check(slices.Contains([]int{18, 34, 50, 101}, b.Depth), "model.backbone.depth", "must be one of 18, 34, 50, 101")
	c.oneOf("model.backbone.style", b.Style, "pytorch", "caffe")
	c.check(b.BaseChannels > 0, "model.backbone.base_channels", "must be > 0")
	c.check(len(b.OutIndices) > 0 && increasingIn(b.OutIndices, 0, 3), "model.backbone.out_indices", "must be increasing stage indices in [0, 3]")
	c.check(b.FrozenStages >= -1 && b.FrozenStages <= 4, "model.backbone.frozen_stages", "must be in [-1, 4]")
	c.oneOf("model.backbone.norm_cfg.type", b.NormCfg.Type, "BN")
}

// stageChannels are the output channels of the ResNet stages in out_indices.
func (b Backbone) stageChannels() []int {
	expansion := 1
	if b.Depth >= 50 {
		expansion = 4
	}
	out := make([]int, len(b.OutIndices))
	for i, s := range b.OutIndices {
		out[i] = (b.BaseChannels << s) * expansion
	}
	return out
}

func (n Neck) validate(c *checker, b Backbone) {
	c.oneOf("model.neck.type", n.Type, "FPN")
	c.oneOf("model.neck.add_extra_convs", n.AddExtraConvs, "", "on_input", "on_output")
	want := b.stageChannels()
	c.check(slices.Equal(n.InChannels, want), "model.neck.in_channels",
		"must be the channels of ResNet-%d stages %s with base_channels %d: %s",
		b.Depth, format(reflect.ValueOf(b.OutIndices)), b.BaseChannels, format(reflect.ValueOf(want)))
	c.check(n.OutChannels > 0, "model.neck.out_channels", "must be > 0")
	c.check(n.NumOuts >= len(n.InChannels), "model.neck.num_outs", "must be >= the number of input levels (%d)", len(n.InChannels))
}

func (h RPNHead) validate(c *checker, n Neck) {
	c.check(h.FeatChannels > 0, "model.rpn_head.feat_channels", "must be > 0")
	c.check(len(h.AnchorScales) > 0 && allPositive(h.AnchorScales), "model.rpn_head.anchor_scales", "must be a non-empty list of numbers > 0")
	c.check(len(h.AnchorRatios) > 0 && allPositive(h.AnchorRatios), "model.rpn_head.anchor_ratios", "must be a non-empty list of numbers > 0")
	c.check(len(h.AnchorStrides) == n.NumOuts && powersOfTwo(h.AnchorStrides), "model.rpn_head.anchor_strides",
		"must be %d increasing powers of two, one per pyramid level (model.neck.num_outs)", n.NumOuts)
	c.check(len(h.TargetMeans) == 4, "model.rpn_head.target_means", "must have 4 numbers")
	c.check(len(h.TargetStds) == 4 && allPositive(h.TargetStds), "model.rpn_head.target_stds", "must have 4 numbers > 0")
	h.LossBBox.validate(c, "model.rpn_head.loss_bbox")
}

func (l Loss) validate(c *checker, key string) {
	c.oneOf(key+".type", l.Type, "smooth_l1", "l1")
	if l.Type == "smooth_l1" {
		c.check(l.Beta > 0, key+".beta", "must be > 0 for smooth_l1")
	}
}

func (h RoIHead) validate(c *checker, n Neck) {
	h.RoIExtractor.validate(c, "model.roi_head.roi_extractor", n)
	b := h.BBoxHead
	c.check(b.NumSharedFCs > 0, "model.roi_head.bbox_head.num_shared_fcs", "must be > 0")
	c.check(b.FCOutChannels > 0, "model.roi_head.bbox_head.fc_out_channels", "must be > 0")
	c.check(b.NumClasses > 0, "model.roi_head.bbox_head.num_classes", "must be > 0 (object categories, background not counted)")
	c.check(len(b.TargetMeans) == 4, "model.roi_head.bbox_head.target_means", "must have 4 numbers")
	c.check(len(b.TargetStds) == 4 && allPositive(b.TargetStds), "model.roi_head.bbox_head.target_stds", "must have 4 numbers > 0")
	b.LossBBox.validate(c, "model.roi_head.bbox_head.loss_bbox")
}

func (r RoIExtractor) validate(c *checker, key string, n Neck) {
	c.oneOf(key+".type", r.Type, "RoIAlign")
	c.check(r.OutputSize > 0, key+".output_size", "must be > 0")
	c.check(r.SamplingRatio >= 0, key+".sampling_ratio", "must be >= 0 (0 is adaptive)")
	c.check(len(r.FeatmapStrides) > 0 && len(r.FeatmapStrides) <= n.NumOuts && powersOfTwo(r.FeatmapStrides),
		key+".featmap_strides", "must be 1 to %d increasing powers of two (model.neck.num_outs levels)", n.NumOuts)
	c.check(r.FinestScale > 0, key+".finest_scale", "must be > 0")
}

// validateMask checks the mask branch's model keys.
func (h RoIHead) validateMask(c *checker, n Neck) {
	h.MaskRoIExtractor.validate(c, "model.roi_head.mask_roi_extractor", n)
	const k = "model.roi_head.mask_head."
	m := h.MaskHead
	c.check(m.NumConvs > 0, k+"num_convs", "must be > 0")
	c.check(m.ConvOutChannels > 0, k+"conv_out_channels", "must be > 0")
	c.check(m.NumClasses == h.BBoxHead.NumClasses, k+"num_classes", "must equal model.roi_head.bbox_head.num_classes = %d", h.BBoxHead.NumClasses)
	c.oneOf(k+"target", m.Target, "mmdet", "torchvision")
	c.oneOf(k+"paste", m.Paste, "mmdet", "torchvision")
}

// validateMaskCfg checks the mask branch's train and test settings.
func (cfg *Config) validateMaskCfg(c *checker) {
	side := 2 * cfg.Model.RoIHead.MaskRoIExtractor.OutputSize
	c.check(cfg.TrainCfg.RCNN.MaskSize == side, "train_cfg.rcnn.mask_size", "must be twice model.roi_head.mask_roi_extractor.output_size (%d): the mask head's output side", side)
	c.check(cfg.TrainCfg.RCNN.MaskMaxRoIs >= 0, "train_cfg.rcnn.mask_max_rois", "must be >= 0 (0: every positive)")
	t := cfg.TestCfg.RCNN.MaskThrBinary
	c.check(t > 0 && t < 1, "test_cfg.rcnn.mask_thr_binary", "must be in (0, 1)")
}

func (t TrainCfg) validate(c *checker) {
	t.RPN.Assigner.validate(c, "train_cfg.rpn.assigner")
	t.RPN.Sampler.validate(c, "train_cfg.rpn.sampler")
	c.check(t.RPN.AllowedBorder >= -1, "train_cfg.rpn.allowed_border", "must be >= 0, or -1 to keep all anchors")
	t.RPNProposal.validate(c, "train_cfg.rpn_proposal")
	t.RCNN.Assigner.validate(c, "train_cfg.rcnn.assigner")
	t.RCNN.Sampler.validate(c, "train_cfg.rcnn.sampler")
	t.Assigner.validate(c, "train_cfg.assigner")
	c.check(t.AllowedBorder >= -1, "train_cfg.allowed_border", "must be >= 0, or -1 to keep all anchors")
}

func (a Assigner) validate(c *checker, key string) {
	c.check(inUnit(a.PosIoUThr), key+".pos_iou_thr", "must be in [0, 1]")
	c.check(inUnit(a.NegIoUThr), key+".neg_iou_thr", "must be in [0, 1]")
	c.check(a.NegIoUThr <= a.PosIoUThr, key+".neg_iou_thr", "must be <= %s.pos_iou_thr (%g)", key, a.PosIoUThr)
	c.check(inUnit(a.MinPosIoU), key+".min_pos_iou", "must be in [0, 1]")
	c.check(a.IgnoreIoFThr == -1 || inUnit(a.IgnoreIoFThr), key+".ignore_iof_thr", "must be in [0, 1], or -1 for off")
}

func (s Sampler) validate(c *checker, key string) {
	c.check(s.Num > 0, key+".num", "must be > 0")
	c.check(inUnit(s.PosFraction), key+".pos_fraction", "must be in [0, 1]")
	c.check(s.NegPosUB == -1 || s.NegPosUB >= 0, key+".neg_pos_ub", "must be >= 0, or -1 for no bound")
}

func (p ProposalCfg) validate(c *checker, key string) {
	c.check(p.NMSPre > 0, key+".nms_pre", "must be > 0")
	c.check(p.NMSPost > 0, key+".nms_post", "must be > 0")
	c.check(p.MaxNum > 0, key+".max_num", "must be > 0")
	c.check(p.NMSThr > 0 && p.NMSThr <= 1, key+".nms_thr", "must be in (0, 1]")
	c.check(p.MinBBoxSize >= 0, key+".min_bbox_size", "must be >= 0")
}

func (t TestCfg) validate(c *checker) {
	t.RPN.validate(c, "test_cfg.rpn")
	c.check(t.RCNN.ScoreThr >= 0 && t.RCNN.ScoreThr < 1, "test_cfg.rcnn.score_thr", "must be in [0, 1)")
	c.check(t.RCNN.NMSThr > 0 && t.RCNN.NMSThr <= 1, "test_cfg.rcnn.nms_thr", "must be in (0, 1]")
	c.check(t.RCNN.MaxPerImg > 0, "test_cfg.rcnn.max_per_img", "must be > 0")
	c.check(t.NMSPre > 0, "test_cfg.nms_pre", "must be > 0")
	c.check(t.ScoreThr >= 0 && t.ScoreThr < 1, "test_cfg.score_thr", "must be in [0, 1)")
	c.check(t.NMSThr > 0 && t.NMSThr <= 1, "test_cfg.nms_thr", "must be in (0, 1]")
	c.check(t.MaxPerImg > 0, "test_cfg.max_per_img", "must be > 0")
}

func (p Proposals) validate(c *checker) {
	c.oneOf("proposals.method", p.Method, "selective_search", "rpn", "file")
	switch p.Method {
	case "file":
		c.check(p.File.Train != "", "proposals.file.train", "must name a file when proposals.method is file")
		c.check(p.File.Val != "", "proposals.file.val", "must name a file when proposals.method is file")
		c.oneOf("proposals.file.format", p.File.Format, "auto", "mmdet", "mmdet3", "detectron", "detectron2", "json", "parquet")
		c.oneOf("proposals.file.non_finite", p.File.NonFinite, "error", "drop")
	case "rpn":
		c.check(p.RPN.Checkpoint != "", "proposals.rpn.checkpoint", "must name a checkpoint or an rpn run directory when proposals.method is rpn")
	case "selective_search":
		s := p.SelectiveSearch
		c.oneOf("proposals.selective_search.mode", s.Mode, "fast", "quality")
		c.check(s.BaseK > 0, "proposals.selective_search.base_k", "must be > 0")
		c.check(s.IncK >= 0, "proposals.selective_search.inc_k", "must be >= 0")
		c.check(s.Sigma >= 0, "proposals.selective_search.sigma", "must be >= 0")
	}
	c.check(p.TopKTrain > 0, "proposals.top_k_train", "must be > 0")
	c.check(p.TopKTest > 0, "proposals.top_k_test", "must be > 0")
	c.check(p.MinSize >= 0, "proposals.min_size", "must be >= 0")
}

func (d Data) validate(c *checker) {
	c.check(len(d.ImgScale) == 2 && d.ImgScale[0] > 0 && d.ImgScale[1] > 0, "data.img_scale", "must be [long side, short side], both > 0")
	c.check(inUnit(d.FlipRatio), "data.flip_ratio", "must be in [0, 1]")
	c.check(len(d.Mean) == 3, "data.mean", "must have 3 numbers, one per channel")
	c.check(len(d.Std) == 3 && allPositive(d.Std), "data.std", "must have 3 numbers > 0, one per channel")
	c.check(d.SizeDivisor >= 0, "data.size_divisor", "must be >= 0 (0 is no padding)")
	c.check(d.ImgsPerGPU > 0, "data.imgs_per_gpu", "must be > 0")
	c.check(d.Workers >= 0, "data.workers", "must be >= 0")
}

func (t Train) validate(c *checker) {
	c.check(t.Epochs > 0, "train.epochs", "must be > 0")
	c.check(t.LR > 0, "train.lr", "must be > 0")
	c.check(t.BaseBatch > 0, "train.base_batch", "must be > 0")
	c.check(t.Momentum >= 0 && t.Momentum < 1, "train.momentum", "must be in [0, 1)")
	c.check(t.WeightDecay >= 0, "train.weight_decay", "must be >= 0")
	c.check(t.GradClip.MaxNorm >= 0, "train.grad_clip.max_norm", "must be >= 0 (0 is off)")
	c.check(t.GradClip.NormType > 0, "train.grad_clip.norm_type", "must be > 0")
	c.oneOf("train.warmup", t.Warmup, "none", "constant", "linear", "exp")
	c.check(t.WarmupIters >= 0, "train.warmup_iters", "must be >= 0")
	c.check(t.WarmupRatio > 0 && t.WarmupRatio <= 1, "train.warmup_ratio", "must be in (0, 1]")
	c.check(increasingIn(t.LRSteps, 1, t.Epochs), "train.lr_steps", "must be increasing epochs in [1, train.epochs = %d]", t.Epochs)
	c.check(t.Gamma > 0 && t.Gamma <= 1, "train.gamma", "must be in (0, 1]")
	c.check(t.CheckpointInterval > 0, "train.checkpoint_interval", "must be > 0")
	c.check(t.LogInterval > 0, "train.log_interval", "must be > 0")
	c.oneOf("train.precision", t.Precision, Precisions...)
	scale, isNumber := t.LossScale.Number()
	c.check(t.LossScale == LossScaleDynamic || (isNumber && scale > 0), "train.loss_scale", "must be %s or a number > 0 (a static scale)", LossScaleDynamic)
}

// checkLoadFrom: train.load_from is model.load_from's deprecated alias,
// so the two may not name different files.
func (cfg *Config) checkLoadFrom(c *checker) {
	m, t := cfg.Model.LoadFrom, cfg.Train.LoadFrom
	c.check(m == "" || t == "" || m == t, "train.load_from", "is the deprecated alias of model.load_from (%q); set model.load_from only", m)
}

func (e Evaluate) validate(c *checker, p zoo.Pipeline) {
	allowed := p.Evals
	if len(allowed) == 0 { // unknown pipeline, reported at the pipeline key
		allowed = []string{zoo.EvalBBox}
	}
	ok := len(e.IoUTypes) > 0
	for i, t := range e.IoUTypes {
		ok = ok && slices.Contains(allowed, t) && !slices.Contains(e.IoUTypes[:i], t)
	}
	c.check(ok, "evaluate.iou_types", "must be one or more of %s, without repeats, for pipeline %s", strings.Join(allowed, ", "), p.Name)
	c.check(len(e.ProposalMaxDets) > 0 && increasingIn(e.ProposalMaxDets, 1, 1<<30), "evaluate.proposal_max_dets", "must be increasing numbers > 0")
	c.check(e.Batch > 0, "evaluate.batch", "must be > 0")
}

// increasingIn reports whether xs is strictly increasing within [lo, hi].
func increasingIn(xs []int, lo, hi int) bool {
	for i, x := range xs {
		if x < lo || x > hi || (i > 0 && x <= xs[i-1]) {
			return false
		}
	}
	return true
}

func powersOfTwo(xs []int) bool {
	for i, x := range xs {
		if x <= 0 || x&(x-1) != 0 || (i > 0 && x <= xs[i-1]) {
			return false
		}
	}
	return true
}

func allPositive(xs []float64) bool {
	for _, x := range xs {
		if x <= 0 {
			return false
		}
	}
	return true
}

func inUnit(x float64) bool { return x >= 0 && x <= 1 }
