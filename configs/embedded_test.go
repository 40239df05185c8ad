package configs

import (
	"slices"
	"testing"

	"github.com/detflow/detflow/zoo"
)

func TestEmbeddedConfigsLoad(t *testing.T) {
	for _, name := range Names() {
		cfg, err := Load(name, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if cfg.Name != name {
			t.Errorf("%s: name = %q", name, cfg.Name)
		}
	}
}

// TestRegistryConfigs ties the registry (package zoo) to the embedded
// configs: every pipeline has its default config and MMDetection's
// model-zoo configs, each of that pipeline and its model type, and every
// embedded config belongs to a registered pipeline (loading validates its
// pipeline and model type against the registry).
func TestRegistryConfigs(t *testing.T) {
	owner := map[string]string{}
	for _, p := range zoo.Pipelines() {
		for _, name := range append([]string{p.Config}, p.Zoo...) {
			owner[name] = p.Name
			cfg, err := Load(name, nil)
			if err != nil {
				t.Errorf("pipeline %s: config %s: %v", p.Name, name, err)
				continue
			}
			if cfg.Pipeline != p.Name || cfg.Model.Type != p.Model {
				t.Errorf("pipeline %s: config %s is pipeline %s, model %s; want %s, %s", p.Name, name, cfg.Pipeline, cfg.Model.Type, p.Name, p.Model)
			}
		}
		if slices.Contains(p.Zoo, p.Config) {
			t.Errorf("pipeline %s: default config %s listed as a model-zoo config", p.Name, p.Config)
		}
	}
	for _, name := range Names() {
		if owner[name] == "" {
			t.Errorf("embedded config %s is neither a pipeline's default nor one of its model-zoo configs in package zoo", name)
		}
	}
}

func TestPipelineConfig(t *testing.T) {
	for _, p := range zoo.PipelineNames() {
		name, err := PipelineConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Pipeline != p {
			t.Errorf("PipelineConfig(%s) = %s, whose pipeline is %s", p, name, cfg.Pipeline)
		}
	}
	if name, _ := PipelineConfig(zoo.PipelineFastRCNN); name != Default {
		t.Errorf("PipelineConfig(%s) = %s, want Default %s", zoo.PipelineFastRCNN, name, Default)
	}
	_, err := PipelineConfig("fast_rcnn")
	want := `unknown pipeline "fast_rcnn" (did you mean "faster_rcnn"?); pipelines: fast_mask_rcnn_with_proposals, fast_rcnn_with_proposals, faster_rcnn, mask_rcnn, retinanet, rpn`
	if err == nil || err.Error() != want {
		t.Errorf("PipelineConfig(fast_rcnn) error = %v, want %s", err, want)
	}
}

// mmdetFastRCNN are the settings of MMDetection's Fast R-CNN R-50-FPN 1x
// (pytorch style) that ../shared/REFERENCES.md lists, as config values.
var mmdetFastRCNN = map[string]string{
	"pipeline":                                     "fast_rcnn_with_proposals",
	"model.type":                                   "FastRCNN",
	"model.legacy_plus_one":                        "false",
	"model.backbone.depth":                         "50",
	"model.backbone.style":                         "pytorch",
	"model.backbone.base_channels":                 "64",
	"model.backbone.out_indices":                   "[0,1,2,3]",
	"model.backbone.frozen_stages":                 "1",
	"model.backbone.norm_eval":                     "true",
	"model.neck.in_channels":                       "[256,512,1024,2048]",
	"model.neck.out_channels":                      "256",
	"model.neck.num_outs":                          "5",
	"model.roi_head.roi_extractor.output_size":     "7",
	"model.roi_head.roi_extractor.sampling_ratio":  "2",
	"model.roi_head.roi_extractor.aligned":         "false",
	"model.roi_head.roi_extractor.featmap_strides": "[4,8,16,32]",
	"model.roi_head.roi_extractor.finest_scale":    "56",
	"model.roi_head.bbox_head.num_shared_fcs":      "2",
	"model.roi_head.bbox_head.fc_out_channels":     "1024",
	"model.roi_head.bbox_head.num_classes":         "80",
	"model.roi_head.bbox_head.target_means":        "[0,0,0,0]",
	"model.roi_head.bbox_head.target_stds":         "[0.1,0.1,0.2,0.2]",
	"model.roi_head.bbox_head.reg_class_agnostic":  "false",
	"model.roi_head.bbox_head.loss_bbox.type":      "smooth_l1",
	"model.roi_head.bbox_head.loss_bbox.beta":      "1",
	"train_cfg.rcnn.assigner.pos_iou_thr":          "0.5",
	"train_cfg.rcnn.assigner.neg_iou_thr":          "0.5",
	"train_cfg.rcnn.assigner.min_pos_iou":          "0.5",
	"train_cfg.rcnn.sampler.num":                   "512",
	"train_cfg.rcnn.sampler.pos_fraction":          "0.25",
	"train_cfg.rcnn.sampler.add_gt_as_proposals":   "true",
	"test_cfg.rcnn.score_thr":                      "0.05",
	"test_cfg.rcnn.nms_thr":                        "0.5",
	"test_cfg.rcnn.max_per_img":                    "100",
	"proposals.method":                             "file",
	"proposals.file.format":                        "mmdet",
	"proposals.top_k_train":                        "2000",
	"proposals.top_k_test":                         "1000",
	"dataset.source":                               "coco",
	"data.img_scale":                               "[1333,800]",
	"data.keep_ratio":                              "true",
	"data.flip_ratio":                              "0.5",
	"data.mean":                                    "[123.675,116.28,103.53]",
	"data.std":                                     "[58.395,57.12,57.375]",
	"data.to_rgb":                                  "true",
	"data.size_divisor":                            "32",
	"data.imgs_per_gpu":                            "2",
	"train.epochs":                                 "12",
	"train.lr":                                     "0.02",
	"train.base_batch":                             "16",
	"train.momentum":                               "0.9",
	"train.weight_decay":                           "0.0001",
	"train.grad_clip.max_norm":                     "35",
	"train.grad_clip.norm_type":                    "2",
	"train.warmup":                                 "linear",
	"train.warmup_iters":                           "500",
	"train.warmup_ratio":                           "0.3333333333333333",
	"train.lr_steps":                               "[8,11]",
	"train.gamma":                                  "0.1",
	"train.checkpoint_interval":                    "1",
	"evaluate.iou_types":                           `["bbox"]`,
}

// mmdetRPN are the RPN settings of MMDetection v0.x (rpn_r50_fpn_1x and the
// RPN half of faster_rcnn_r50_fpn_1x).
var mmdetRPN = map[string]string{
	"model.rpn_head.feat_channels":              "256",
	"model.rpn_head.anchor_scales":              "[8]",
	"model.rpn_head.anchor_ratios":              "[0.5,1,2]",
	"model.rpn_head.anchor_strides":             "[4,8,16,32,64]",
	"model.rpn_head.target_means":               "[0,0,0,0]",
	"model.rpn_head.target_stds":                "[1,1,1,1]",
	"model.rpn_head.loss_bbox.type":             "smooth_l1",
	"model.rpn_head.loss_bbox.beta":             "0.1111111111111111",
	"train_cfg.rpn.assigner.pos_iou_thr":        "0.7",
	"train_cfg.rpn.assigner.neg_iou_thr":        "0.3",
	"train_cfg.rpn.assigner.min_pos_iou":        "0.3",
	"train_cfg.rpn.sampler.num":                 "256",
	"train_cfg.rpn.sampler.pos_fraction":        "0.5",
	"train_cfg.rpn.sampler.add_gt_as_proposals": "false",
	"train_cfg.rpn.allowed_border":              "0",
}

func merged(maps ...map[string]string) map[string]string {
	out := make(map[string]string)
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestModelZooSettings checks the MMDetection-equivalent configs against
// the settings in ../shared/REFERENCES.md, key by key.
func TestModelZooSettings(t *testing.T) {
	proposalsOnly := map[string]string{ // keys that do not apply outside fast_rcnn_with_proposals
		"proposals.method": "", "proposals.file.format": "", "proposals.top_k_train": "", "proposals.top_k_test": "",
	}
	without := func(m, drop map[string]string) map[string]string {
		out := merged(m)
		for k := range drop {
			delete(out, k)
		}
		return out
	}
	fasterRCNN := merged(without(mmdetFastRCNN, proposalsOnly), mmdetRPN, map[string]string{
		"pipeline":                        "faster_rcnn",
		"model.type":                      "FasterRCNN",
		"train_cfg.rpn_proposal.nms_pre":  "2000",
		"train_cfg.rpn_proposal.nms_post": "2000",
		"train_cfg.rpn_proposal.max_num":  "2000",
		"train_cfg.rpn_proposal.nms_thr":  "0.7",
		"test_cfg.rpn.nms_pre":            "1000",
		"test_cfg.rpn.nms_post":           "1000",
		"test_cfg.rpn.max_num":            "1000",
		"test_cfg.rpn.nms_thr":            "0.7",
	})
	// caffe style: MSRA weights, BN frozen, BGR with mean subtraction only.
	caffe := map[string]string{
		"model.backbone.style":                  "caffe",
		"model.backbone.norm_cfg.requires_grad": "false",
		"model.backbone.pretrained":             "pretrained/R-50.pkl",
		"data.mean":                             "[103.53,116.28,123.675]",
		"data.std":                              "[1,1,1]",
		"data.to_rgb":                           "false",
	}
	twoX := map[string]string{"train.epochs": "24", "train.lr_steps": "[16,22]"}
	rpn := merged(without(mmdetFastRCNN, proposalsOnly), mmdetRPN, map[string]string{
		"pipeline":              "rpn",
		"model.type":            "RPN",
		"evaluate.iou_types":    `["proposal"]`,
		"test_cfg.rpn.nms_pre":  "2000",
		"test_cfg.rpn.nms_post": "2000",
		"test_cfg.rpn.max_num":  "2000",
		"test_cfg.rpn.nms_thr":  "0.7",
	})
	// RetinaNet R-50-FPN as MMDetection v1.0's retinanet_r50_fpn_1x.py.
	retinaNet := map[string]string{
		"pipeline":                           "retinanet",
		"model.type":                         "RetinaNet",
		"model.backbone.out_indices":         "[1,2,3]",
		"model.backbone.frozen_stages":       "1",
		"model.neck.in_channels":             "[512,1024,2048]",
		"model.neck.out_channels":            "256",
		"model.neck.num_outs":                "5",
		"model.neck.add_extra_convs":         "on_input",
		"model.neck.relu_before_extra_convs": "false",
		"model.bbox_head.num_classes":        "80",
		"model.bbox_head.stacked_convs":      "4",
		"model.bbox_head.feat_channels":      "256",
		"model.bbox_head.octave_base_scale":  "4",
		"model.bbox_head.scales_per_octave":  "3",
		"model.bbox_head.anchor_ratios":      "[0.5,1,2]",
		"model.bbox_head.anchor_strides":     "[8,16,32,64,128]",
		"model.bbox_head.target_stds":        "[1,1,1,1]",
		"model.bbox_head.loss_cls.gamma":     "2",
		"model.bbox_head.loss_cls.alpha":     "0.25",
		"model.bbox_head.loss_bbox.type":     "smooth_l1",
		"model.bbox_head.loss_bbox.beta":     "0.11",
		"train_cfg.assigner.pos_iou_thr":     "0.5",
		"train_cfg.assigner.neg_iou_thr":     "0.4",
		"train_cfg.assigner.min_pos_iou":     "0",
		"train_cfg.assigner.ignore_iof_thr":  "-1",
		"train_cfg.allowed_border":           "-1",
		"test_cfg.nms_pre":                   "1000",
		"test_cfg.score_thr":                 "0.05",
		"test_cfg.nms_thr":                   "0.5",
		"test_cfg.max_per_img":               "100",
		"train.lr":                           "0.01",
		"train.base_batch":                   "16",
		"train.grad_clip.max_norm":           "35",
		"train.warmup_iters":                 "500",
		"train.lr_steps":                     "[8,11]",
		"data.img_scale":                     "[1333,800]",
		"evaluate.iou_types":                 `["bbox"]`,
	}
	// The mask branch as MMDetection v1's mask_rcnn_r50_fpn_1x.py and
	// fast_mask_rcnn_r50_fpn_1x.py.
	maskBranch := map[string]string{
		"model.roi_head.mask_roi_extractor.type":            "RoIAlign",
		"model.roi_head.mask_roi_extractor.output_size":     "14",
		"model.roi_head.mask_roi_extractor.sampling_ratio":  "2",
		"model.roi_head.mask_roi_extractor.aligned":         "false",
		"model.roi_head.mask_roi_extractor.featmap_strides": "[4,8,16,32]",
		"model.roi_head.mask_head.num_convs":                "4",
		"model.roi_head.mask_head.conv_out_channels":        "256",
		"model.roi_head.mask_head.num_classes":              "80",
		"model.roi_head.mask_head.target":                   "mmdet",
		"model.roi_head.mask_head.paste":                    "mmdet",
		"train_cfg.rcnn.mask_size":                          "28",
		"train_cfg.rcnn.mask_max_rois":                      "0",
		"test_cfg.rcnn.mask_thr_binary":                     "0.5",
		"evaluate.iou_types":                                `["bbox","segm"]`,
	}
	maskRCNN := merged(fasterRCNN, maskBranch, map[string]string{"pipeline": "mask_rcnn", "model.type": "MaskRCNN"})
	fastMask := merged(mmdetFastRCNN, maskBranch, map[string]string{
		"pipeline": "fast_mask_rcnn_with_proposals", "model.type": "FastMaskRCNN",
	})
	for _, tc := range []struct {
		name string
		want map[string]string
	}{
		{"mask_rcnn_r50_fpn_1x_coco", maskRCNN},
		{"mask_rcnn_r50_caffe_fpn_1x_coco", merged(maskRCNN, caffe)},
		{"mask_rcnn_r50_fpn_2x_coco", merged(maskRCNN, twoX)},
		{"fast_mask_rcnn_r50_fpn_1x_coco", fastMask},
		{"fast_mask_rcnn_r50_caffe_fpn_1x_coco", merged(fastMask, caffe)},
		{"fast_mask_rcnn_r50_fpn_2x_coco", merged(fastMask, twoX)},
		{"retinanet_r50_fpn_1x_coco", retinaNet},
		{"retinanet_r50_caffe_fpn_1x_coco", merged(retinaNet, caffe)},
		{"retinanet_r50_fpn_2x_coco", merged(retinaNet, twoX)},
		{"fast_rcnn_r50_fpn_1x_coco", merged(mmdetFastRCNN, map[string]string{
			"model.backbone.norm_cfg.requires_grad": "true",
		})},
		{"fast_rcnn_r50_caffe_fpn_1x_coco", merged(mmdetFastRCNN, caffe)},
		{"fast_rcnn_r50_fpn_2x_coco", merged(mmdetFastRCNN, twoX)},
		{"rpn_r50_fpn_1x_coco", rpn},
		{"rpn_r50_caffe_fpn_1x_coco", merged(rpn, caffe)},
		{"rpn_r50_fpn_2x_coco", merged(rpn, twoX)},
		{"faster_rcnn_r50_fpn_1x_coco", fasterRCNN},
		{"faster_rcnn_r50_caffe_fpn_1x_coco", merged(fasterRCNN, caffe)},
		{"faster_rcnn_r50_fpn_2x_coco", merged(fasterRCNN, twoX)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(tc.name, nil)
			if err != nil {
				t.Fatal(err)
			}
			values := mustValues(t, cfg)
			for k, want := range tc.want {
				if values[k] != want {
					t.Errorf("%s = %s, want %s (set at %s)", k, values[k], want, cfg.Origin(k))
				}
			}
		})
	}
}

// TestTinyConfigs checks what makes the tiny configs suit a CPU trained
// from scratch, and that the three share one model and data set.
func TestTinyConfigs(t *testing.T) {
	shared := []string{"model.backbone", "model.neck", "dataset", "data", "train", "records"}
	var first map[string]string
	for _, name := range []string{"fast_rcnn_tiny_synth", "rpn_tiny_synth", "faster_rcnn_tiny_synth", "mask_rcnn_tiny_synth", "fast_mask_rcnn_tiny_synth"} {
		cfg, err := Load(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		values := mustValues(t, cfg)
		for k, want := range map[string]string{
			"dataset.source":                        "synthetic",
			"dataset.synthetic.width":               "320",
			"dataset.synthetic.height":              "240",
			"data.img_scale":                        "[320,240]",
			"model.backbone.depth":                  "18",
			"model.backbone.base_channels":          "32",
			"model.backbone.frozen_stages":          "-1",
			"model.backbone.norm_eval":              "false", // BN trained from scratch
			"model.backbone.norm_cfg.requires_grad": "true",
			"model.backbone.pretrained":             "",
			"model.neck.out_channels":               "64",
		} {
			if values[k] != want {
				t.Errorf("%s: %s = %s, want %s", name, k, values[k], want)
			}
		}
		if (cfg.Pipeline == zoo.PipelineFastRCNN || cfg.Pipeline == zoo.PipelineFastMask) && cfg.Proposals.Method != "selective_search" {
			t.Errorf("%s: proposals.method = %s, want selective_search", name, cfg.Proposals.Method)
		}
		sharedValues := mustValues(t, cfg, shared...)
		if first == nil {
			first = sharedValues
		} else if d := Diff(first, sharedValues); len(d) > 0 {
			t.Errorf("%s differs from fast_rcnn_tiny_synth: %v", name, d)
		}
	}
}

// TestTinyRetinaNetSharesTheTinyExperiment: the tiny RetinaNet trains on
// the other tiny configs' data set, images and batch with their backbone,
// on its own shorter schedule (2 epochs at lr 0.01, no step: sized in
// BENCHMARKS.md to train from scratch within the 10-minute budget).
func TestTinyRetinaNetSharesTheTinyExperiment(t *testing.T) {
	shared := []string{"dataset", "data", "records", "train.base_batch", "train.momentum", "train.weight_decay",
		"model.backbone.depth", "model.backbone.base_channels", "model.backbone.norm_eval", "model.neck.out_channels"}
	values := func(name string) map[string]string {
		cfg, err := Load(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return mustValues(t, cfg, shared...)
	}
	if d := Diff(values("faster_rcnn_tiny_synth"), values("retinanet_tiny_synth")); len(d) > 0 {
		t.Errorf("retinanet_tiny_synth differs from faster_rcnn_tiny_synth: %v", d)
	}
	cfg, err := Load("retinanet_tiny_synth", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr := cfg.Train; tr.LR != 0.01 || tr.Epochs != 2 || len(tr.LRSteps) != 0 || cfg.Model.BBoxHead.NumClasses != 9 {
		t.Errorf("lr %g, %d epochs, steps %v, %d classes; want 0.01, 2, none and the synthetic set's 9",
			tr.LR, tr.Epochs, tr.LRSteps, cfg.Model.BBoxHead.NumClasses)
	}
}
