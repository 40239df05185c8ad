package configs_test

import (
	"fmt"
	"log"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/zoo"
)

func ExampleLoad() {
	cfg, err := configs.Load(configs.Default, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Name, cfg.Pipeline, cfg.Model.Type)
	fmt.Println("ResNet", cfg.Model.Backbone.Depth, "proposals:", cfg.Proposals.Method)
	// Output:
	// fast_rcnn_tiny_synth fast_rcnn_with_proposals FastRCNN
	// ResNet 18 proposals: selective_search
}

func ExampleLoad_set() {
	cfg, err := configs.Load("fast_rcnn_r50_fpn_1x_coco", []string{
		"train.lr=0.01",
		"data.img_scale=[640,480]",
		"train.resume_from=null",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Train.LR, cfg.Data.ImgScale, cfg.Train.ResumeFrom == "")
	fmt.Println(cfg.Origin("train.lr"))
	// Output:
	// 0.01 [640 480] true
	// --set train.lr=0.01
}

func ExampleLoad_unknownKey() {
	_, err := configs.Load(configs.Default, []string{"train.lrr=0.01"})
	fmt.Println(err)
	// Output:
	// --set train.lrr=0.01: unknown key "train.lrr" (did you mean "train.lr"?)
}

func ExampleConfig_Values() {
	cfg, err := configs.Load(configs.Default, nil)
	if err != nil {
		log.Fatal(err)
	}
	values, err := cfg.Values("train.lr", "data.img_scale", "evaluate.iou_types")
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"train.lr", "data.img_scale", "evaluate.iou_types"} {
		fmt.Printf("%s=%s\n", k, values[k])
	}
	// Output:
	// train.lr=0.02
	// data.img_scale=[320,240]
	// evaluate.iou_types=["bbox"]
}

func ExampleDiff() {
	old, _ := configs.Load(configs.Default, nil)
	cur, _ := configs.Load(configs.Default, []string{"train.lr=0.01"})
	before, _ := old.Values("train")
	after, _ := cur.Values("train")
	for _, ch := range configs.Diff(before, after) {
		fmt.Println(ch)
	}
	// Output:
	// config key train.lr changed (0.02 -> 0.01)
}

func ExamplePipelineConfig() {
	for _, p := range zoo.PipelineNames() {
		name, _ := configs.PipelineConfig(p)
		fmt.Println(p, "->", name)
	}
	// Output:
	// fast_mask_rcnn_with_proposals -> fast_mask_rcnn_tiny_synth
	// fast_rcnn_with_proposals -> fast_rcnn_tiny_synth
	// faster_rcnn -> faster_rcnn_tiny_synth
	// mask_rcnn -> mask_rcnn_tiny_synth
	// retinanet -> retinanet_tiny_synth
	// rpn -> rpn_tiny_synth
}
