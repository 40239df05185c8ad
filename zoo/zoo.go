// Package zoo is the one registry of detflow's pipelines and model types:
// each pipeline is declared here once, with its stages, the model type it
// trains, its default config, the embedded configs that reproduce
// MMDetection's model-zoo rows, the evaluation types it accepts and its
// model-zoo table. Config validation, the CLI's help, `pipeline zoo`, the
// orchestrator and the detector builder all read this registry.
//
// Adding a detector family is one Model and one Pipeline entry below plus
// its config files (and, in detection/detector, its builder); the
// consistency tests in configs, pipelines and detection/detector fail until
// every part is there.
//
// The package is a leaf: it holds names and tables, no code that runs a
// stage, so readers of run folders (report, query) can use it without
// linking Beam or the detector.
package zoo

import (
	"fmt"
	"slices"
	"strings"
)

// Pipeline names: the values of the config's pipeline key and of
// `pipeline run NAME`.
const (
	PipelineFastRCNN   = "fast_rcnn_with_proposals"
	PipelineRPN        = "rpn"
	PipelineFasterRCNN = "faster_rcnn"
	PipelineRetinaNet  = "retinanet"
	PipelineMaskRCNN   = "mask_rcnn"
	PipelineFastMask   = "fast_mask_rcnn_with_proposals"
)

// Model types: the values of model.type.
const (
	ModelRPN        = "RPN"
	ModelFastRCNN   = "FastRCNN"
	ModelFasterRCNN = "FasterRCNN"
	ModelRetinaNet  = "RetinaNet"
	// ModelMaskRCNN is Faster R-CNN with a mask branch in its RoI head.
	ModelMaskRCNN = "MaskRCNN"
	// ModelFastMaskRCNN is Fast R-CNN (precomputed proposals) with a mask
	// branch in its RoI head.
	ModelFastMaskRCNN = "FastMaskRCNN"
)

// Stage names, in the order a pipeline may run them.
const (
	StageDataset   = "dataset"
	StageProposals = "proposals"
	StageRecords   = "records"
	StageTrain     = "train"
	StageEvaluate  = "evaluate"
)

// Evaluation types: the values of evaluate.iou_types.
const (
	EvalBBox     = "bbox"
	EvalProposal = "proposal"
	EvalSegm     = "segm"
)

// Pipeline declares one named pipeline.
type Pipeline struct {
	Name string
	Doc  string // one line, for the CLI's help and `pipeline stages`
	// Model is the model type it trains: its config's model.type.
	Model string
	// Stages are the stage names in execution order.
	Stages []string
	// Config is the embedded config `pipeline run NAME` uses when given
	// none: small, on the synthetic data, trained on CPU in minutes.
	Config string
	// Zoo are the embedded configs of MMDetection's model-zoo rows.
	Zoo []string
	// Evals are the evaluate.iou_types the pipeline accepts; the first is
	// the default.
	Evals []string
}

// Has reports whether the pipeline runs the named stage.
func (p Pipeline) Has(stage string) bool { return slices.Contains(p.Stages, stage) }

// Model declares one model type.
type Model struct {
	Type string
	// Title is the model zoo's section title, e.g. "Fast R-CNN".
	Title string
	// RPNHead and RoIHead say which heads the model has; configs
	// validates model.rpn_head and model.roi_head for the heads it has.
	RPNHead, RoIHead bool
	// DenseHead is a single-stage detector's head (model.bbox_head, with
	// train_cfg.assigner and test_cfg's single-stage keys).
	DenseHead bool
	// MaskHead is the RoI head's mask branch (model.roi_head.mask_head and
	// mask_roi_extractor, train_cfg.rcnn.mask_size,
	// test_cfg.rcnn.mask_thr_binary). Its pipelines validate that every
	// non-crowd object of a user's data set has a segmentation, carry masks
	// in the records (batch.Item.GTMasks) and may evaluate iou type segm.
	MaskHead bool
	// Kind is the model zoo's Type column in a section shared by several
	// model types ("Faster" or "Mask" under Fast R-CNN); "" in a section
	// of one type.
	Kind string
	// Figures are the model-zoo table's accuracy columns after the
	// columns every table has (memory, train time, inference speed).
	Figures []Column
}

// Column is one figure column of a model-zoo table.
type Column struct {
	Title    string  // "box AP"
	Metric   string  // the metrics table's name: "bbox_mAP"
	Scale    float64 // printed value = metric value * Scale
	Decimals int
}

var (
	boxAP  = Column{Title: "box AP", Metric: "bbox_mAP", Scale: 100, Decimals: 1}
	ar1000 = Column{Title: "AR1000", Metric: "AR@1000", Scale: 100, Decimals: 1}
	maskAP = Column{Title: "mask AP", Metric: "segm_mAP", Scale: 100, Decimals: 1}
)

// models are the model types in the order of MMDetection's MODEL_ZOO.md
// sections.
var models = []Model{
	{Type: ModelRPN, Title: "RPN", RPNHead: true, Figures: []Column{ar1000}},
	{Type: ModelFasterRCNN, Title: "Faster R-CNN", RPNHead: true, RoIHead: true, Figures: []Column{boxAP}},
	{Type: ModelMaskRCNN, Title: "Mask R-CNN", RPNHead: true, RoIHead: true, MaskHead: true, Figures: []Column{boxAP, maskAP}},
	{Type: ModelFastRCNN, Title: "Fast R-CNN", Kind: "Faster", RoIHead: true, Figures: []Column{boxAP}},
	{Type: ModelFastMaskRCNN, Title: "Fast R-CNN", Kind: "Mask", RoIHead: true, MaskHead: true, Figures: []Column{boxAP, maskAP}},
	{Type: ModelRetinaNet, Title: "RetinaNet", DenseHead: true, Figures: []Column{boxAP}},
}

// pipelines are detflow's pipelines, the default first.
var pipelines = []Pipeline{
	{
		Name:   PipelineFastRCNN,
		Doc:    "Fast R-CNN trained on precomputed proposals",
		Model:  ModelFastRCNN,
		Stages: []string{StageDataset, StageProposals, StageRecords, StageTrain, StageEvaluate},
		Config: "fast_rcnn_tiny_synth",
		Zoo:    []string{"fast_rcnn_r50_caffe_fpn_1x_coco", "fast_rcnn_r50_fpn_1x_coco", "fast_rcnn_r50_fpn_2x_coco"},
		Evals:  []string{EvalBBox},
	},
	{
		Name:   PipelineRPN,
		Doc:    "Region Proposal Network: train, evaluate proposal recall (AR); its checkpoint feeds proposals.method=rpn",
		Model:  ModelRPN,
		Stages: []string{StageDataset, StageRecords, StageTrain, StageEvaluate},
		Config: "rpn_tiny_synth",
		Zoo:    []string{"rpn_r50_caffe_fpn_1x_coco", "rpn_r50_fpn_1x_coco", "rpn_r50_fpn_2x_coco"},
		Evals:  []string{EvalProposal},
	},
	{
		Name:   PipelineFasterRCNN,
		Doc:    "Faster R-CNN (RPN and RoI heads trained jointly)",
		Model:  ModelFasterRCNN,
		Stages: []string{StageDataset, StageRecords, StageTrain, StageEvaluate},
		Config: "faster_rcnn_tiny_synth",
		Zoo:    []string{"faster_rcnn_r50_caffe_fpn_1x_coco", "faster_rcnn_r50_fpn_1x_coco", "faster_rcnn_r50_fpn_2x_coco"},
		Evals:  []string{EvalBBox, EvalProposal},
	},
	{
		Name:   PipelineRetinaNet,
		Doc:    "RetinaNet: single-stage, focal loss over dense anchors (no proposals)",
		Model:  ModelRetinaNet,
		Stages: []string{StageDataset, StageRecords, StageTrain, StageEvaluate},
		Config: "retinanet_tiny_synth",
		Zoo:    []string{"retinanet_r50_caffe_fpn_1x_coco", "retinanet_r50_fpn_1x_coco", "retinanet_r50_fpn_2x_coco"},
		Evals:  []string{EvalBBox},
	},
	{
		Name:   PipelineMaskRCNN,
		Doc:    "Mask R-CNN: Faster R-CNN with an instance-mask branch (box and mask AP)",
		Model:  ModelMaskRCNN,
		Stages: []string{StageDataset, StageRecords, StageTrain, StageEvaluate},
		Config: "mask_rcnn_tiny_synth",
		Zoo:    []string{"mask_rcnn_r50_caffe_fpn_1x_coco", "mask_rcnn_r50_fpn_1x_coco", "mask_rcnn_r50_fpn_2x_coco"},
		Evals:  []string{EvalBBox, EvalSegm, EvalProposal},
	},
	{
		Name:   PipelineFastMask,
		Doc:    "Fast R-CNN with an instance-mask branch, trained on precomputed proposals",
		Model:  ModelFastMaskRCNN,
		Stages: []string{StageDataset, StageProposals, StageRecords, StageTrain, StageEvaluate},
		Config: "fast_mask_rcnn_tiny_synth",
		Zoo:    []string{"fast_mask_rcnn_r50_caffe_fpn_1x_coco", "fast_mask_rcnn_r50_fpn_1x_coco", "fast_mask_rcnn_r50_fpn_2x_coco"},
		Evals:  []string{EvalBBox, EvalSegm},
	},
}

// Pipelines returns every pipeline, the default first.
func Pipelines() []Pipeline { return slices.Clone(pipelines) }

// PipelineNames lists the pipeline names, sorted.
func PipelineNames() []string {
	names := make([]string, len(pipelines))
	for i, p := range pipelines {
		names[i] = p.Name
	}
	slices.Sort(names)
	return names
}

// LookupPipeline finds a pipeline by name, or says which exist.
func LookupPipeline(name string) (Pipeline, error) {
	for _, p := range pipelines {
		if p.Name == name {
			return p, nil
		}
	}
	return Pipeline{}, fmt.Errorf("unknown pipeline %q (pipelines: %s)", name, strings.Join(PipelineNames(), ", "))
}

// Models returns every model type in the model zoo's section order.
func Models() []Model { return slices.Clone(models) }

// ModelTypes lists the model types in the model zoo's section order.
func ModelTypes() []string {
	types := make([]string, len(models))
	for i, m := range models {
		types[i] = m.Type
	}
	return types
}

// HasMasks reports whether model type typ has a mask head (Model.MaskHead);
// false for an unknown type.
func HasMasks(typ string) bool {
	m, ok := LookupModel(typ)
	return ok && m.MaskHead
}

// LookupModel finds a model type.
func LookupModel(typ string) (Model, bool) {
	for _, m := range models {
		if m.Type == typ {
			return m, true
		}
	}
	return Model{}, false
}
