package configs

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// badConfigs maps each testdata/*.bad.yaml file to the exact error Load
// returns for it.
var badConfigs = map[string]string{
	"unknown_key.bad.yaml":     `testdata/unknown_key.bad.yaml:3: unknown key "train.lrr" (did you mean "train.lr"?)`,
	"unknown_nested.bad.yaml":  `testdata/unknown_nested.bad.yaml:4: unknown key "model.backbone.dpth" (did you mean "model.backbone.depth"?)`,
	"unknown_top.bad.yaml":     `testdata/unknown_top.bad.yaml:2: unknown key "trian" (did you mean "train"?)`,
	"unknown_in_base.bad.yaml": `testdata/bases/typo.yaml:3: unknown key "proposals.selective_serch" (did you mean "proposals.selective_search"?)`,
	"type_int.bad.yaml":        `testdata/type_int.bad.yaml:3: train.epochs: expected an integer, got "1.5"`,
	"type_float.bad.yaml":      `testdata/type_float.bad.yaml:3: train.lr: expected a number, got "fast"`,
	"type_bool.bad.yaml":       `testdata/type_bool.bad.yaml:3: data.keep_ratio: expected true or false, got "yes"`,
	"type_list.bad.yaml":       `testdata/type_list.bad.yaml:3: data.img_scale: expected a list of integers like [a, b], got "640"`,
	"type_list_item.bad.yaml":  `testdata/type_list_item.bad.yaml:3: data.mean: item 1: expected a number, got "x"`,
	"type_mapping.bad.yaml":    `testdata/type_mapping.bad.yaml:2: train: expected a mapping, got "5"`,
	"type_string.bad.yaml":     `testdata/type_string.bad.yaml:2: name: expected a string, got "123"`,
	"duplicate_key.bad.yaml":   `testdata/duplicate_key.bad.yaml:4: duplicate key "train.lr"`,
	"base_missing.bad.yaml": `testdata/base_missing.bad.yaml: _base_ "fast_rcnn_tiny_synt": no file testdata/fast_rcnn_tiny_synt.yaml ` +
		`and no embedded config "fast_rcnn_tiny_synt" (embedded: ` + strings.Join(Names(), ", ") + `)`,
	"base_cycle.bad.yaml":   `testdata/base_cycle.bad.yaml: _base_ cycle: testdata/base_cycle.bad.yaml -> testdata/bases/cycle.yaml -> testdata/base_cycle.bad.yaml`,
	"base_type.bad.yaml":    `testdata/base_type.bad.yaml:1: _base_: expected a file name or a list of them, got a mapping`,
	"delete_type.bad.yaml":  `testdata/delete_type.bad.yaml:3: train._delete_: expected true or false, got "yes"`,
	"not_mapping.bad.yaml":  `testdata/not_mapping.bad.yaml:1: expected a mapping of config keys, got a list`,
	"syntax.bad.yaml":       `parse config testdata/syntax.bad.yaml: yaml: line 2: did not find expected ',' or ']'`,
	"pos_fraction.bad.yaml": "invalid config \"pos_fraction.bad\":\n  testdata/pos_fraction.bad.yaml:5: train_cfg.rcnn.sampler.pos_fraction = 1.5: must be in [0, 1]",
	"epochs.bad.yaml":       "invalid config \"epochs.bad\":\n  testdata/epochs.bad.yaml:3: train.epochs = 0: must be > 0",
	"lr_steps.bad.yaml":     "invalid config \"lr_steps.bad\":\n  testdata/lr_steps.bad.yaml:4: train.lr_steps = [11,8]: must be increasing epochs in [1, train.epochs = 12]",
	"lr_steps_beyond.bad.yaml": "invalid config \"lr_steps_beyond.bad\":\n" +
		"  testdata/lr_steps_beyond.bad.yaml:4: train.lr_steps = [8,13]: must be increasing epochs in [1, train.epochs = 12]",
	"pipeline.bad.yaml": "invalid config \"pipeline.bad\":\n" +
		"  testdata/pipeline.bad.yaml:2: pipeline = fast_rcnn: must be one of fast_mask_rcnn_with_proposals, fast_rcnn_with_proposals, faster_rcnn, mask_rcnn, retinanet, rpn",
	"mask_head.bad.yaml": "invalid config \"mask_head.bad\":\n" +
		"  testdata/mask_head.bad.yaml:5: model.roi_head.mask_head.num_classes = 80: must equal model.roi_head.bbox_head.num_classes = 9\n" +
		"  testdata/mask_head.bad.yaml:6: model.roi_head.mask_head.paste = detectron: must be one of mmdet, torchvision\n" +
		"  testdata/mask_head.bad.yaml:9: train_cfg.rcnn.mask_size = 28: must be twice model.roi_head.mask_roi_extractor.output_size (14): the mask head's output side",
	"model_mismatch.bad.yaml": "invalid config \"model_mismatch.bad\":\n" +
		"  testdata/model_mismatch.bad.yaml:4: model.type = FastRCNN: pipeline rpn needs model type RPN\n" +
		"  testdata/model_mismatch.bad.yaml:6: evaluate.iou_types = [\"proposal\",\"bbox\"]: must be one or more of proposal, without repeats, for pipeline rpn",
	"neck_channels.bad.yaml": "invalid config \"neck_channels.bad\":\n" +
		"  testdata/neck_channels.bad.yaml:6: model.neck.in_channels = [32,64,128,256]: " +
		"must be the channels of ResNet-50 stages [0,1,2,3] with base_channels 32: [128,256,512,1024]",
	"name.bad.yaml": "invalid config \"my run\":\n" +
		"  testdata/name.bad.yaml:2: name = my run: must be letters, digits, '.', '_' or '-', starting with a letter or digit (it names the run directory)",
	"proposals_file.bad.yaml": "invalid config \"proposals_file.bad\":\n" +
		"  testdata/proposals_file.bad.yaml:5: proposals.file.train = \"\": must name a file when proposals.method is file\n" +
		"  testdata/proposals_file.bad.yaml:7: proposals.file.format = pickle: must be one of auto, mmdet, mmdet3, detectron, detectron2, json, parquet",
	"coco_paths.bad.yaml": "invalid config \"coco_paths.bad\":\n" +
		"  testdata/coco_paths.bad.yaml:5: dataset.train_ann = \"\": must name a file when dataset.source is coco\n" +
		"  testdata/coco_paths.bad.yaml:8: dataset.val_images = \"\": must name a folder when dataset.source is coco",
	"conventions.bad.yaml": "invalid config \"conventions.bad\":\n" +
		"  testdata/conventions.bad.yaml:3: model.conventions = detectron2: must be one of mmdet, torchvision",
	"load_from_alias.bad.yaml": "invalid config \"load_from_alias.bad\":\n" +
		"  testdata/load_from_alias.bad.yaml:5: train.load_from = b.pth: is the deprecated alias of model.load_from (\"a.pth\"); set model.load_from only",
	"anchor_strides.bad.yaml": "invalid config \"anchor_strides.bad\":\n" +
		"  testdata/anchor_strides.bad.yaml:4: model.rpn_head.anchor_strides = [4,8,16,32]: must be 5 increasing powers of two, one per pyramid level (model.neck.num_outs)",
	"precision.bad.yaml": "invalid config \"precision.bad\":\n" +
		"  testdata/precision.bad.yaml:3: train.precision = half: must be one of fp32, tf32, fp16, bf16\n" +
		"  testdata/precision.bad.yaml:4: train.loss_scale = -1: must be dynamic or a number > 0 (a static scale)",
	"thresholds.bad.yaml": "invalid config \"thresholds.bad\":\n" +
		"  testdata/thresholds.bad.yaml:6: train_cfg.rpn.assigner.neg_iou_thr = 0.7: must be <= train_cfg.rpn.assigner.pos_iou_thr (0.3)\n" +
		"  testdata/thresholds.bad.yaml:9: test_cfg.rcnn.score_thr = 1: must be in [0, 1)\n" +
		"  testdata/thresholds.bad.yaml:10: test_cfg.rcnn.nms_thr = 0: must be in (0, 1]",
}

func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	var listed []string
	for name := range badConfigs {
		listed = append(listed, name)
	}
	sort.Strings(listed)
	if strings.Join(names, " ") != strings.Join(listed, " ") {
		t.Fatalf("testdata/*.bad.yaml and badConfigs differ:\nfiles: %v\ntable: %v", names, listed)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata", name), nil)
			if err == nil {
				t.Fatalf("Load succeeded (name %q), want error", cfg.Name)
			}
			if got, want := err.Error(), badConfigs[name]; got != want {
				t.Errorf("wrong error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// goodConfigs maps each testdata/*.good.yaml file to values its resolved
// config must have.
var goodConfigs = map[string]map[string]string{
	"override.good.yaml": {
		"name":                   "override.good",
		"pipeline":               "fast_rcnn_with_proposals",
		"train.lr":               "0.01",
		"train.lr_steps":         "[2,3]",
		"data.img_scale":         "[640,480]",
		"train.epochs":           "3", // from the embedded base
		"model.neck.in_channels": "[32,64,128,256]",
	},
	"embedded_paths.good.yaml": {
		"model.type":     "FasterRCNN",
		"dataset.source": "synthetic",
		"train.epochs":   "24",
		"train.lr_steps": "[16,22]",
		"train.lr":       "0.02",
	},
	"relative.good.yaml": {
		"name":           "my-rpn",
		"pipeline":       "rpn",
		"train.epochs":   "20",
		"train.lr_steps": "[16,19]",
		"train.warmup":   "exp",
		"train.lr":       "0.02",
	},
	"delete.good.yaml": {
		"train.grad_clip.max_norm":  "10",
		"train.grad_clip.norm_type": "2", // the base's 1 was deleted
		"train.epochs":              "3",
	},
	"aliases.good.yaml": {
		"test_cfg.rpn.nms_pre":                 "500",
		"train_cfg.rpn_proposal.nms_pre":       "500",
		"train_cfg.rpn_proposal.nms_thr":       "0.6",
		"train_cfg.rpn_proposal.min_bbox_size": "1",
		"train.resume_from":                    "",
		"train.lr":                             "0.001",
	},
}

func TestGoodConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(goodConfigs) {
		t.Errorf("%d testdata/*.good.yaml files, %d in goodConfigs", len(files), len(goodConfigs))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := goodConfigs[name]
			if !ok {
				t.Fatalf("%s is not in goodConfigs", name)
			}
			cfg, err := Load(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			values, err := cfg.Values()
			if err != nil {
				t.Fatal(err)
			}
			for key, v := range want {
				if values[key] != v {
					t.Errorf("%s = %q, want %q (set at %s)", key, values[key], v, cfg.Origin(key))
				}
			}
		})
	}
}
