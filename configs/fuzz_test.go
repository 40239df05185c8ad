package configs

import (
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary YAML to the loader as a config based on the
// defaults: it must return a config or an error, never panic, and a config
// it accepts must survive the YAML round trip.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"train: {lr: 0.01}\n",
		"_base_: [x]\n",
		"train:\n  _delete_: true\n  epochs: 3\n  lr_steps: [1]\n",
		"a: &x {b: 1}\nc: *x\n",
		"data: {img_scale: [1, 2], mean: [.inf, 0, 0]}\n",
		"- 1\n",
		"model: {backbone: {depth: 18, base_channels: 1, pretrained: null}}\n",
		"train: {epochs: 0x10, lr: 1e3, lr_steps: [1, 2]}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		efs := testFS(t, map[string]string{"fuzz.yaml": string(data), "x.yaml": "name: x\n"})
		cfg, err := load(efs, "fuzz", nil)
		if err != nil {
			return
		}
		out, err := cfg.YAML()
		if err != nil {
			t.Fatalf("YAML of an accepted config: %v", err)
		}
		again, err := load(testFS(t, map[string]string{"again.yaml": string(out)}), "again", nil)
		if err != nil {
			t.Fatalf("reload of the resolved YAML: %v\n%s", err, out)
		}
		if d := Diff(mustValues(t, cfg), mustValues(t, again)); len(d) > 0 {
			t.Fatalf("round trip changed %v", d)
		}
	})
}

// FuzzSet feeds arbitrary --set flags to the loader: an error or a valid
// config, never a panic.
func FuzzSet(f *testing.F) {
	for _, seed := range []string{
		"train.lr=0.01", "data.img_scale=[640,480]", "train=5", "=", "train.lr", "train.grad_clip={max_norm: 1}",
		"name=x", "train.lr_steps=null", "evaluate.iou_types=[bbox, bbox]", "model.backbone=&a {depth: *a}",
	} {
		f.Add(seed)
	}
	efs := testFS(f, map[string]string{"base.yaml": "name: base\n"})
	f.Fuzz(func(t *testing.T, set string) {
		cfg, err := load(efs, "base", []string{set})
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && strings.TrimSpace(err.Error()) == "" {
			t.Fatal("empty error")
		}
	})
}
