package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValuesCanonical(t *testing.T) {
	cfg, err := Load(Default, []string{"train.weight_decay=0.00001", "proposals.rpn.checkpoint=a,b"})
	if err != nil {
		t.Fatal(err)
	}
	values := mustValues(t, cfg)
	for key, want := range map[string]string{
		"train.lr":                      "0.02",
		"train.weight_decay":            "1e-05",
		"train.warmup_ratio":            "0.001",
		"train.epochs":                  "3",
		"data.mean":                     "[123.675,116.28,103.53]",
		"data.keep_ratio":               "true",
		"evaluate.iou_types":            `["bbox"]`,
		"train.resume_from":             "",
		"proposals.rpn.checkpoint":      "a,b",
		"model.rpn_head.target_stds":    "[1,1,1,1]",
		"model.rpn_head.loss_bbox.beta": "0.1111111111111111",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	// Every leaf of the schema has a value, and mappings have none.
	for _, key := range Keys() {
		_, ok := values[key]
		if ok == isMapping(key) {
			t.Errorf("Values has %s: %v, but it is a mapping: %v", key, ok, isMapping(key))
		}
	}
}

func TestValuesStable(t *testing.T) {
	a, err := Load(Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same settings reached another way: a different file order and --set.
	b, err := Load(Default, []string{"train.lr=0.020", "data.mean=[123.675, 116.280, 103.530]", "train.lr_steps=[2]"})
	if err != nil {
		t.Fatal(err)
	}
	va, vb := mustValues(t, a), mustValues(t, b)
	if !reflect.DeepEqual(va, vb) {
		t.Errorf("Values differ for equal configs: %v", Diff(va, vb))
	}
	for i := 0; i < 3; i++ {
		if again := mustValues(t, a); !reflect.DeepEqual(va, again) {
			t.Fatalf("Values changed between calls: %v", Diff(va, again))
		}
	}
}

func TestValuesPrefixes(t *testing.T) {
	cfg, err := Load(Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	train := mustValues(t, cfg, "train")
	if len(train) == 0 {
		t.Fatal("no values under train")
	}
	for k := range train {
		if !strings.HasPrefix(k, "train.") {
			t.Errorf("Values(train) has %s", k) // e.g. train_cfg.* must not match
		}
	}
	if _, ok := train["train.grad_clip.max_norm"]; !ok {
		t.Error("Values(train) lacks train.grad_clip.max_norm")
	}
	if got := mustValues(t, cfg, "train.lr"); len(got) != 1 || got["train.lr"] != "0.02" {
		t.Errorf("Values(train.lr) = %v", got)
	}
	two := mustValues(t, cfg, "model.backbone", "data.img_scale")
	if _, ok := two["data.img_scale"]; !ok || len(two) != len(mustValues(t, cfg, "model.backbone"))+1 {
		t.Errorf("Values(model.backbone, data.img_scale) = %v", two)
	}
	if _, err := cfg.Values("trian"); err == nil || err.Error() != `values of config key "trian": unknown key (did you mean "train"?)` {
		t.Errorf("Values(trian) error = %v", err)
	}
}

// TestRoundTrip saves every embedded config's resolved YAML and loads it
// back: the values must be identical, the name included.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	sets := map[string][]string{
		Default: {"train.weight_decay=0.00001", "train.resume_from=a: b # c", "train.lr=0.1234567890123", "data.mean=[1e-7, 2, 3]"},
	}
	for _, name := range Names() {
		cfg, err := Load(name, sets[name])
		if err != nil {
			t.Fatal(err)
		}
		data, err := cfg.YAML()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := Load(path, nil)
		if err != nil {
			t.Fatalf("%s: load the saved YAML: %v\n%s", name, err, data)
		}
		if d := Diff(mustValues(t, cfg), mustValues(t, again)); len(d) > 0 {
			t.Errorf("%s: round trip changed %v", name, d)
		}
		if !reflect.DeepEqual(withoutOrigin(cfg), withoutOrigin(again)) {
			t.Errorf("%s: round trip changed the config", name)
		}
	}
}

func withoutOrigin(c *Config) Config {
	d := *c
	d.origin = nil
	return d
}

// TestDefaultsComplete checks that defaults.yaml sets every leaf, so every
// value has a documented default, and that it is a valid config alone.
func TestDefaultsComplete(t *testing.T) {
	l := &loader{efs: embedded}
	if err := l.loadDefaults(); err != nil {
		t.Fatal(err)
	}
	for _, key := range Keys() {
		if isMapping(key) {
			continue
		}
		if o := l.app.cfg.origin[key]; !strings.HasPrefix(o, "configs/defaults.yaml:") {
			t.Errorf("defaults.yaml does not set %s", key)
		}
	}
	cfg := l.app.cfg
	cfg.Name = "defaults"
	if err := cfg.validate(); err != nil {
		t.Errorf("defaults.yaml is not a valid config: %v", err)
	}
}

func TestDiff(t *testing.T) {
	old := map[string]string{"train.lr": "0.02", "train.epochs": "12", "data.flip_ratio": "0.5"}
	cur := map[string]string{"train.lr": "0.01", "train.epochs": "12", "train.gamma": "0.1"}
	var got []string
	for _, ch := range Diff(old, cur) {
		got = append(got, ch.String())
	}
	want := []string{
		"config key data.flip_ratio removed (was 0.5)",
		"config key train.gamma added (0.1)",
		"config key train.lr changed (0.02 -> 0.01)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if d := Diff(old, old); len(d) != 0 {
		t.Errorf("Diff of equal maps = %v", d)
	}
}

func TestScaledLR(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch int
		want  float64
	}{
		{"fast_rcnn_r50_fpn_1x_coco", 16, 0.02}, // 8 GPUs x 2 images, as in the model zoo
		{"fast_rcnn_r50_fpn_1x_coco", 2, 0.0025},
		{Default, 4, 0.02},
		{Default, 8, 0.04},
	} {
		cfg, err := Load(tc.name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Train.ScaledLR(tc.batch); got != tc.want {
			t.Errorf("%s: ScaledLR(%d) = %g, want %g", tc.name, tc.batch, got, tc.want)
		}
	}
}
