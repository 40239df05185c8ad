package configs

import (
	"math"
	"strconv"

	"github.com/detflow/detflow/zoo"
)

// The schema: one Go struct per YAML mapping. A field's yaml tag is its key;
// the key path of a leaf is the tags from the root joined by dots, e.g.
// "train.lr". Every key, its meaning and its default value are documented
// in defaults.yaml, the one place defaults live; the comments here only say
// what a value is for.
//
// Scalars are int, float64, bool, string and NumberOrWord; lists are
// slices of the first four.
// Strings that name a file may be empty (no file) and accept null.

// Config is a whole, resolved experiment configuration.
type Config struct {
	// Name names the run (its directory); defaults to the loaded file's name.
	Name string `yaml:"name"`
	// Pipeline names a pipeline of the registry (package zoo).
	Pipeline  string    `yaml:"pipeline"`
	Dataset   Dataset   `yaml:"dataset"`
	Model     Model     `yaml:"model"`
	TrainCfg  TrainCfg  `yaml:"train_cfg"`
	TestCfg   TestCfg   `yaml:"test_cfg"`
	Proposals Proposals `yaml:"proposals"`
	Records   Records   `yaml:"records"`
	Data      Data      `yaml:"data"`
	Train     Train     `yaml:"train"`
	Evaluate  Evaluate  `yaml:"evaluate"`

	// origin maps each leaf key to where its value was set
	// ("configs/x.yaml:12" or "--set k=v"), for error messages.
	origin map[string]string
}

// Dataset says which data set the dataset stage materialises.
type Dataset struct {
	Source      string    `yaml:"source"` // "synthetic" or "coco"
	Root        string    `yaml:"root"`
	TrainAnn    string    `yaml:"train_ann"`
	TrainImages string    `yaml:"train_images"`
	ValAnn      string    `yaml:"val_ann"`
	ValImages   string    `yaml:"val_images"`
	MaxPixels   int       `yaml:"max_pixels"` // larger images are refused before decoding
	Synthetic   Synthetic `yaml:"synthetic"`
}

// Synthetic sizes the built-in synthetic data set.
type Synthetic struct {
	Train  int `yaml:"train"`
	Val    int `yaml:"val"`
	Seed   int `yaml:"seed"`
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
}

// Model is the detector: backbone, neck and the heads its type uses.
type Model struct {
	Type          string `yaml:"type"` // one of the Model* constants
	LegacyPlusOne bool   `yaml:"legacy_plus_one"`
	// Conventions: ConventionsMMDet or ConventionsTorchvision (see
	// defaults.yaml for what the latter changes).
	Conventions string `yaml:"conventions"`
	// LoadFrom is a whole-detector checkpoint (path, gs://, URL or
	// torchvision://name) that training starts from and that evaluation
	// runs when no train stage output is there.
	LoadFrom string   `yaml:"load_from"`
	Backbone Backbone `yaml:"backbone"`
	Neck     Neck     `yaml:"neck"`
	RPNHead  RPNHead  `yaml:"rpn_head"`
	RoIHead  RoIHead  `yaml:"roi_head"`
	// BBoxHead is a single-stage detector's dense head (RetinaNet).
	BBoxHead DenseHead `yaml:"bbox_head"`
}

// Backbone is a ResNet.
type Backbone struct {
	Type             string  `yaml:"type"`
	Depth            int     `yaml:"depth"`
	Style            string  `yaml:"style"` // "pytorch" or "caffe"
	BaseChannels     int     `yaml:"base_channels"`
	OutIndices       []int   `yaml:"out_indices,flow"`
	FrozenStages     int     `yaml:"frozen_stages"`
	NormCfg          NormCfg `yaml:"norm_cfg"`
	NormEval         bool    `yaml:"norm_eval"`
	ZeroInitResidual bool    `yaml:"zero_init_residual"`
	Pretrained       string  `yaml:"pretrained"`
}

// NormCfg is the normalisation layer of the backbone.
type NormCfg struct {
	Type         string `yaml:"type"`
	RequiresGrad bool   `yaml:"requires_grad"`
}

// Neck is an FPN.
type Neck struct {
	Type        string `yaml:"type"`
	InChannels  []int  `yaml:"in_channels,flow"`
	OutChannels int    `yaml:"out_channels"`
	NumOuts     int    `yaml:"num_outs"`
	// AddExtraConvs makes the levels past the inputs stride-2 convs:
	// "on_input" (P6 from C5) or "on_output" (P6 from P5); "" max-pools.
	AddExtraConvs        string `yaml:"add_extra_convs"`
	ReluBeforeExtraConvs bool   `yaml:"relu_before_extra_convs"`
}

// RPNHead is the region proposal head (RPN and FasterRCNN).
type RPNHead struct {
	FeatChannels  int       `yaml:"feat_channels"`
	AnchorScales  []float64 `yaml:"anchor_scales,flow"`
	AnchorRatios  []float64 `yaml:"anchor_ratios,flow"`
	AnchorStrides []int     `yaml:"anchor_strides,flow"`
	TargetMeans   []float64 `yaml:"target_means,flow"`
	TargetStds    []float64 `yaml:"target_stds,flow"`
	LossBBox      Loss      `yaml:"loss_bbox"`
}

// DenseHead is RetinaNet's head: stacked convs per branch, anchors from
// octave scales, sigmoid focal classification.
type DenseHead struct {
	NumClasses      int       `yaml:"num_classes"`
	StackedConvs    int       `yaml:"stacked_convs"`
	FeatChannels    int       `yaml:"feat_channels"`
	OctaveBaseScale float64   `yaml:"octave_base_scale"`
	ScalesPerOctave int       `yaml:"scales_per_octave"`
	AnchorRatios    []float64 `yaml:"anchor_ratios,flow"`
	AnchorStrides   []int     `yaml:"anchor_strides,flow"`
	TargetMeans     []float64 `yaml:"target_means,flow"`
	TargetStds      []float64 `yaml:"target_stds,flow"`
	LossCls         FocalLoss `yaml:"loss_cls"`
	LossBBox        Loss      `yaml:"loss_bbox"`
}

// FocalLoss is the sigmoid focal classification loss.
type FocalLoss struct {
	Gamma float64 `yaml:"gamma"`
	Alpha float64 `yaml:"alpha"`
}

// Loss is a box regression loss.
type Loss struct {
	Type string  `yaml:"type"` // "smooth_l1" or "l1"
	Beta float64 `yaml:"beta"`
}

// RoIHead is the second stage (FastRCNN and FasterRCNN, and with its
// mask branch MaskRCNN and FastMaskRCNN).
type RoIHead struct {
	RoIExtractor     RoIExtractor `yaml:"roi_extractor"`
	BBoxHead         BBoxHead     `yaml:"bbox_head"`
	MaskRoIExtractor RoIExtractor `yaml:"mask_roi_extractor"`
	MaskHead         MaskHead     `yaml:"mask_head"`
}

// MaskHead is the FCN mask head.
type MaskHead struct {
	NumConvs        int    `yaml:"num_convs"`
	ConvOutChannels int    `yaml:"conv_out_channels"`
	NumClasses      int    `yaml:"num_classes"`
	Target          string `yaml:"target"` // mmdet or torchvision
	Paste           string `yaml:"paste"`  // mmdet or torchvision
}

// RoIExtractor pools one feature map level per RoI.
type RoIExtractor struct {
	Type           string `yaml:"type"`
	OutputSize     int    `yaml:"output_size"`
	SamplingRatio  int    `yaml:"sampling_ratio"`
	Aligned        bool   `yaml:"aligned"`
	FeatmapStrides []int  `yaml:"featmap_strides,flow"`
	FinestScale    int    `yaml:"finest_scale"`
}

// BBoxHead is the shared-FC box classification and regression head.
type BBoxHead struct {
	NumSharedFCs     int       `yaml:"num_shared_fcs"`
	FCOutChannels    int       `yaml:"fc_out_channels"`
	NumClasses       int       `yaml:"num_classes"`
	TargetMeans      []float64 `yaml:"target_means,flow"`
	TargetStds       []float64 `yaml:"target_stds,flow"`
	RegClassAgnostic bool      `yaml:"reg_class_agnostic"`
	LossBBox         Loss      `yaml:"loss_bbox"`
}

// TrainCfg holds the training-time target assignment settings.
type TrainCfg struct {
	RPN         RPNTrain    `yaml:"rpn"`
	RPNProposal ProposalCfg `yaml:"rpn_proposal"`
	RCNN        RCNNTrain   `yaml:"rcnn"`
	// Assigner and AllowedBorder assign the anchors of a single-stage
	// detector (RetinaNet), every anchor counting (no sampler).
	Assigner      Assigner `yaml:"assigner"`
	AllowedBorder int      `yaml:"allowed_border"`
}

// RPNTrain assigns and samples anchors for the RPN loss.
type RPNTrain struct {
	Assigner      Assigner `yaml:"assigner"`
	Sampler       Sampler  `yaml:"sampler"`
	AllowedBorder int      `yaml:"allowed_border"`
}

// RCNNTrain assigns and samples proposals for the RoI head loss.
type RCNNTrain struct {
	Assigner Assigner `yaml:"assigner"`
	Sampler  Sampler  `yaml:"sampler"`
	MaskSize int      `yaml:"mask_size"`
	// MaskMaxRoIs caps the positives per image the mask branch trains on
	// (a random subset); 0 trains on all, as MMDetection.
	MaskMaxRoIs int `yaml:"mask_max_rois"`
}

// Assigner is a MaxIoUAssigner.
type Assigner struct {
	PosIoUThr    float64 `yaml:"pos_iou_thr"`
	NegIoUThr    float64 `yaml:"neg_iou_thr"`
	MinPosIoU    float64 `yaml:"min_pos_iou"`
	IgnoreIoFThr float64 `yaml:"ignore_iof_thr"`
}

// Sampler is a RandomSampler.
type Sampler struct {
	Num              int     `yaml:"num"`
	PosFraction      float64 `yaml:"pos_fraction"`
	NegPosUB         float64 `yaml:"neg_pos_ub"`
	AddGTAsProposals bool    `yaml:"add_gt_as_proposals"`
}

// ProposalCfg turns RPN outputs into proposals.
type ProposalCfg struct {
	NMSPre      int     `yaml:"nms_pre"`
	NMSPost     int     `yaml:"nms_post"`
	MaxNum      int     `yaml:"max_num"`
	NMSThr      float64 `yaml:"nms_thr"`
	MinBBoxSize float64 `yaml:"min_bbox_size"`
}

// TestCfg holds the inference settings.
type TestCfg struct {
	RPN  ProposalCfg `yaml:"rpn"`
	RCNN RCNNTest    `yaml:"rcnn"`
	// NMSPre, ScoreThr, NMSThr and MaxPerImg post-process a single-stage
	// detector's outputs (RetinaNet).
	NMSPre    int     `yaml:"nms_pre"`
	ScoreThr  float64 `yaml:"score_thr"`
	NMSThr    float64 `yaml:"nms_thr"`
	MaxPerImg int     `yaml:"max_per_img"`
}

// RCNNTest post-processes the RoI head's outputs.
type RCNNTest struct {
	ScoreThr      float64 `yaml:"score_thr"`
	NMSThr        float64 `yaml:"nms_thr"`
	MaxPerImg     int     `yaml:"max_per_img"`
	MaskThrBinary float64 `yaml:"mask_thr_binary"`
}

// Proposals configures the proposals stage.
type Proposals struct {
	Method          string          `yaml:"method"` // selective_search, rpn or file
	File            ProposalFile    `yaml:"file"`
	TopKTrain       int             `yaml:"top_k_train"`
	TopKTest        int             `yaml:"top_k_test"`
	MinSize         float64         `yaml:"min_size"`
	SelectiveSearch SelectiveSearch `yaml:"selective_search"`
	RPN             ProposalRPN     `yaml:"rpn"`
}

// ProposalFile names precomputed proposal files to import.
type ProposalFile struct {
	Train  string `yaml:"train"`
	Val    string `yaml:"val"`
	Format string `yaml:"format"`
	// NonFinite is "error" (refuse NaN/inf values) or "drop" (with a warning).
	NonFinite string `yaml:"non_finite"`
}

// SelectiveSearch sets the model-free proposal generator.
type SelectiveSearch struct {
	Mode  string  `yaml:"mode"` // "fast" or "quality"
	BaseK float64 `yaml:"base_k"`
	IncK  float64 `yaml:"inc_k"`
	Sigma float64 `yaml:"sigma"`
}

// ProposalRPN names the RPN whose outputs become proposals.
type ProposalRPN struct {
	Checkpoint string `yaml:"checkpoint"`
}

// Records configures the sharded Parquet records.
type Records struct {
	ShardSize int `yaml:"shard_size"`
	Seed      int `yaml:"seed"`
}

// Data is the image pipeline shared by training and inference.
type Data struct {
	ImgScale    []int     `yaml:"img_scale,flow"`
	KeepRatio   bool      `yaml:"keep_ratio"`
	FlipRatio   float64   `yaml:"flip_ratio"`
	Mean        []float64 `yaml:"mean,flow"`
	Std         []float64 `yaml:"std,flow"`
	ToRGB       bool      `yaml:"to_rgb"`
	SizeDivisor int       `yaml:"size_divisor"`
	ImgsPerGPU  int       `yaml:"imgs_per_gpu"`
	Workers     int       `yaml:"workers"`
}

// Train is the optimiser, schedule and checkpointing of the train stage.
type Train struct {
	Epochs             int      `yaml:"epochs"`
	LR                 float64  `yaml:"lr"`
	BaseBatch          int      `yaml:"base_batch"`
	Momentum           float64  `yaml:"momentum"`
	WeightDecay        float64  `yaml:"weight_decay"`
	GradClip           GradClip `yaml:"grad_clip"`
	Warmup             string   `yaml:"warmup"` // none, constant, linear or exp
	WarmupIters        int      `yaml:"warmup_iters"`
	WarmupRatio        float64  `yaml:"warmup_ratio"`
	LRSteps            []int    `yaml:"lr_steps,flow"`
	Gamma              float64  `yaml:"gamma"`
	Seed               int      `yaml:"seed"`
	CheckpointInterval int      `yaml:"checkpoint_interval"`
	LogInterval        int      `yaml:"log_interval"`
	ResumeFrom         string   `yaml:"resume_from"`
	LoadFrom           string   `yaml:"load_from"` // deprecated alias of model.load_from
	// Precision is fp32, tf32, fp16 or bf16 (the Precision* constants).
	Precision string `yaml:"precision"`
	// LossScale is fp16's loss scale: "dynamic" or a number (static).
	LossScale NumberOrWord `yaml:"loss_scale"`
}

// Train precisions (train.precision).
const (
	PrecisionFP32 = "fp32" // FP32 everywhere
	PrecisionTF32 = "tf32" // TF32 tensor cores in GPU convolutions, FP32 elsewhere (PyTorch's default)
	PrecisionFP16 = "fp16" // mixed precision: fp16 convolutions and matrix products, dynamic loss scaling
	PrecisionBF16 = "bf16" // mixed precision: bfloat16 convolutions and matrix products
)

// Precisions lists train.precision's values.
var Precisions = []string{PrecisionFP32, PrecisionTF32, PrecisionFP16, PrecisionBF16}

// LossScaleDynamic is train.loss_scale's dynamic mode.
const LossScaleDynamic = "dynamic"

// NumberOrWord is a leaf that takes a word or a bare number (train.loss_scale:
// dynamic or 512); a number is kept as its canonical text ("512." is "512").
type NumberOrWord string

// Number returns the value as a number, and whether it is one.
func (v NumberOrWord) Number() (float64, bool) {
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// Model conventions (model.conventions).
const (
	ConventionsMMDet       = "mmdet"
	ConventionsTorchvision = "torchvision"
)

// Torchvision says whether torchvision's conventions are selected.
func (m Model) Torchvision() bool { return m.Conventions == ConventionsTorchvision }

// WeightsFrom is model.load_from, or the deprecated train.load_from.
func (c *Config) WeightsFrom() string {
	if c.Model.LoadFrom != "" {
		return c.Model.LoadFrom
	}
	return c.Train.LoadFrom
}

// GradClip clips the global gradient norm; MaxNorm 0 disables it.
type GradClip struct {
	MaxNorm  float64 `yaml:"max_norm"`
	NormType float64 `yaml:"norm_type"`
}

// Evaluate configures the evaluate stage.
type Evaluate struct {
	IoUTypes        []string `yaml:"iou_types,flow"` // bbox, segm, proposal
	ProposalMaxDets []int    `yaml:"proposal_max_dets,flow"`
	Batch           int      `yaml:"batch"`
}

// ScaledLR is the learning rate for a total batch of totalBatch images
// (devices x imgs_per_gpu) under the linear scaling rule:
// lr * totalBatch / base_batch.
func (t Train) ScaledLR(totalBatch int) float64 {
	return t.LR * float64(totalBatch) / float64(t.BaseBatch)
}

// NumClasses is the config key of the model's classifier width and its
// value: the RoI head's or a single-stage detector's head's; "" for a
// class-agnostic model (the RPN).
func (c *Config) NumClasses() (key string, k int) {
	heads, _ := zoo.LookupModel(c.Model.Type)
	switch {
	case heads.RoIHead:
		return "model.roi_head.bbox_head.num_classes", c.Model.RoIHead.BBoxHead.NumClasses
	case heads.DenseHead:
		return "model.bbox_head.num_classes", c.Model.BBoxHead.NumClasses
	}
	return "", 0
}
