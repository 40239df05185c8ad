package configs

import (
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		config string // Default when empty
		sets   []string
		key    string
		want   string // canonical value of key, when err is empty
		err    string
	}{
		{sets: []string{"train.lr=0.01"}, key: "train.lr", want: "0.01"},
		{sets: []string{"train.lr=1"}, key: "train.lr", want: "1"}, // an integer is a number
		{sets: []string{"train.lr=1e-3"}, key: "train.lr", want: "0.001"},
		{sets: []string{"train.lr=0.1", "train.lr=0.2"}, key: "train.lr", want: "0.2"}, // the last wins
		{sets: []string{"train.epochs=24", "train.lr_steps=[16,22]"}, key: "train.epochs", want: "24"},
		{sets: []string{"data.keep_ratio=false"}, key: "data.keep_ratio", want: "false"},
		{sets: []string{"data.img_scale=[640,480]"}, key: "data.img_scale", want: "[640,480]"},
		{sets: []string{"data.img_scale=[640, 480]"}, key: "data.img_scale", want: "[640,480]"},
		{sets: []string{"data.mean=[1,2.5,3]"}, key: "data.mean", want: "[1,2.5,3]"},
		{sets: []string{"train.lr_steps=null"}, key: "train.lr_steps", want: "[]"},
		{sets: []string{"train.lr_steps=[]"}, key: "train.lr_steps", want: "[]"},
		{sets: []string{"train.resume_from=null"}, key: "train.resume_from", want: ""},
		{sets: []string{"train.resume_from=runs/a b/train/epoch_3.ckpt"}, key: "train.resume_from", want: "runs/a b/train/epoch_3.ckpt"},
		{sets: []string{"train.load_from=gs://bucket/x: y #z"}, key: "train.load_from", want: "gs://bucket/x: y #z"}, // strings are taken as written
		{sets: []string{"name=123"}, key: "name", want: "123"},
		{sets: []string{"proposals.selective_search.mode=quality"}, key: "proposals.selective_search.mode", want: "quality"},
		{sets: []string{"train.grad_clip={max_norm: 10}"}, key: "train.grad_clip.max_norm", want: "10"},
		{sets: []string{"train.grad_clip={max_norm: 10}"}, key: "train.grad_clip.norm_type", want: "2"}, // mappings merge
		{config: "faster_rcnn_tiny_synth", sets: []string{"evaluate.iou_types=[bbox,proposal]"}, key: "evaluate.iou_types", want: `["bbox","proposal"]`},
		{sets: []string{"model.backbone.depth=34"}, key: "model.backbone.depth", want: "34"},
		{sets: []string{"train.lr=0.01"}, key: "train.precision", want: "tf32"}, // PyTorch's default
		{sets: []string{"train.precision=bf16"}, key: "train.precision", want: "bf16"},
		{sets: []string{"train.lr=0.01"}, key: "train.loss_scale", want: "dynamic"},
		{sets: []string{"train.loss_scale=512."}, key: "train.loss_scale", want: "512"}, // MMDetection's fp16 = dict(loss_scale=512.)
		{sets: []string{"train.loss_scale=1e3"}, key: "train.loss_scale", want: "1000"},
		{sets: []string{"train.loss_scale=true"}, err: `--set train.loss_scale=true: train.loss_scale: expected a word or a number, got "true"`},
		{sets: []string{"train.precision=half"}, err: "invalid config \"fast_rcnn_tiny_synth\":\n  --set train.precision=half: train.precision = half: must be one of fp32, tf32, fp16, bf16"},
		{sets: []string{"train.loss_scale=0"}, err: "invalid config \"fast_rcnn_tiny_synth\":\n  --set train.loss_scale=0: train.loss_scale = 0: must be dynamic or a number > 0 (a static scale)"},

		{sets: []string{"train.lrr=0.1"}, err: `--set train.lrr=0.1: unknown key "train.lrr" (did you mean "train.lr"?)`},
		{sets: []string{"trian.lr=0.1"}, err: `--set trian.lr=0.1: unknown key "trian.lr" (did you mean "train.lr"?)`},
		{sets: []string{"train.lr.x=1"}, err: `--set train.lr.x=1: unknown key "train.lr.x" (did you mean "train.lr"?)`},
		{sets: []string{"train.epochs=1.5"}, err: `--set train.epochs=1.5: train.epochs: expected an integer, got "1.5"`},
		{sets: []string{"train.epochs=99999999999999999999"}, err: `--set train.epochs=99999999999999999999: train.epochs: expected an integer, got "99999999999999999999"`},
		{sets: []string{"train.lr=fast"}, err: `--set train.lr=fast: train.lr: expected a number, got "fast"`},
		{sets: []string{"train.lr="}, err: `--set train.lr=: train.lr: expected a number, got an empty value`},
		{sets: []string{"train.lr=null"}, err: `--set train.lr=null: train.lr: expected a number, got null`},
		{sets: []string{"train.lr=.nan"}, err: `--set train.lr=.nan: train.lr: expected a finite number, got ".nan"`},
		{sets: []string{"data.keep_ratio=1"}, err: `--set data.keep_ratio=1: data.keep_ratio: expected true or false, got "1"`},
		{sets: []string{"data.img_scale=640,480"}, err: `--set data.img_scale=640,480: data.img_scale: expected a list of integers like [a, b], got "640,480"`},
		{sets: []string{"data.img_scale=[640,x]"}, err: `--set data.img_scale=[640,x]: data.img_scale: item 1: expected an integer, got "x"`},
		{sets: []string{"data.img_scale=[640"}, err: `--set data.img_scale=[640: data.img_scale: parse value "[640": yaml: line 1: did not find expected ',' or ']'`},
		{sets: []string{"train=5"}, err: `--set train=5: train: expected a mapping, got "5"`},
		{sets: []string{"train={lrr: 1}"}, err: `--set train={lrr: 1}: unknown key "train.lrr" (did you mean "train.lr"?)`},
		{sets: []string{"train.lr"}, err: `--set train.lr: want key=value, e.g. train.lr=0.01`},
		{sets: []string{"=5"}, err: `--set =5: want key=value, e.g. train.lr=0.01`},
		{sets: []string{"train.epochs=0", "train.lr_steps=[1]"}, err: "invalid config \"fast_rcnn_tiny_synth\":\n" +
			"  --set train.epochs=0: train.epochs = 0: must be > 0\n" +
			"  --set train.lr_steps=[1]: train.lr_steps = [1]: must be increasing epochs in [1, train.epochs = 0]"},
		{sets: []string{"train_cfg.rpn.sampler.pos_fraction=2"}, err: "invalid config \"fast_rcnn_tiny_synth\":\n" +
			"  --set train_cfg.rpn.sampler.pos_fraction=2: train_cfg.rpn.sampler.pos_fraction = 2: must be in [0, 1]"},
	} {
		name := tc.config
		if name == "" {
			name = Default
		}
		cfg, err := Load(name, tc.sets)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Load(%s, %q): error\n got: %v\nwant: %s", name, tc.sets, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Load(%s, %q): %v", name, tc.sets, err)
			continue
		}
		if got := mustValues(t, cfg, tc.key)[tc.key]; got != tc.want {
			t.Errorf("Load(%s, %q): %s = %q, want %q", name, tc.sets, tc.key, got, tc.want)
		}
		last := tc.sets[len(tc.sets)-1]
		if strings.HasPrefix(last, tc.key+"=") && cfg.Origin(tc.key) != "--set "+last {
			t.Errorf("Load(%s, %q): origin of %s = %q, want %q", name, tc.sets, tc.key, cfg.Origin(tc.key), "--set "+last)
		}
	}
}
