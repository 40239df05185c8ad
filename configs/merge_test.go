package configs

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// testFS is an embedded tree of the real defaults plus the given files.
func testFS(t testing.TB, files map[string]string) fstest.MapFS {
	t.Helper()
	defaults, err := fs.ReadFile(embedded, defaultsFile)
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{defaultsFile: {Data: defaults}}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func mustValues(t *testing.T, cfg *Config, prefixes ...string) map[string]string {
	t.Helper()
	v, err := cfg.Values(prefixes...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMergeOrder(t *testing.T) {
	efs := testFS(t, map[string]string{
		"_base_/a0.yaml": "train: {lr: 0.5, epochs: 3, gamma: 0.5}\n",
		"_base_/a.yaml":  "_base_: a0.yaml\ntrain: {lr: 0.1, epochs: 5, lr_steps: [1, 2, 3]}\n",
		"_base_/b.yaml":  "train: {lr: 0.2, lr_steps: [4]}\n",
		"top.yaml":       "_base_: [_base_/a.yaml, _base_/b]\ntrain: {epochs: 7}\n",
	})
	cfg, err := load(efs, "top", []string{"train.gamma=0.25"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, value, origin string }{
		{"train.lr", "0.2", "configs/_base_/b.yaml:1"},       // b after a
		{"train.epochs", "7", "configs/top.yaml:2"},          // the file after its bases
		{"train.lr_steps", "[4]", "configs/_base_/b.yaml:1"}, // lists replace, never merge
		{"train.gamma", "0.25", "--set train.gamma=0.25"},    // --set last
		{"train.momentum", "0.9", "configs/defaults.yaml:"},  // untouched: the default
		{"name", "top", "configs/top.yaml"},                  // the file's name
	} {
		if got := mustValues(t, cfg, tc.key)[tc.key]; got != tc.value {
			t.Errorf("%s = %s, want %s", tc.key, got, tc.value)
		}
		if got := cfg.Origin(tc.key); !strings.HasPrefix(got, tc.origin) {
			t.Errorf("origin of %s = %q, want %q", tc.key, got, tc.origin)
		}
	}
}

func TestDelete(t *testing.T) {
	efs := testFS(t, map[string]string{
		"base.yaml": "train:\n  grad_clip: {max_norm: 5, norm_type: 1}\n  lr: 0.5\n",
		// _delete_ written after a key still applies before it.
		"replace.yaml": "_base_: base\ntrain:\n  grad_clip:\n    max_norm: 7\n    _delete_: true\n",
		"merge.yaml":   "_base_: base\ntrain:\n  grad_clip:\n    _delete_: false\n    max_norm: 7\n",
		"whole.yaml":   "_base_: base\ntrain:\n  _delete_: true\n  epochs: 2\n  lr_steps: [1]\n",
	})
	for _, tc := range []struct {
		name string
		want map[string]string
	}{
		{"replace", map[string]string{"train.grad_clip.max_norm": "7", "train.grad_clip.norm_type": "2", "train.lr": "0.5"}},
		{"merge", map[string]string{"train.grad_clip.max_norm": "7", "train.grad_clip.norm_type": "1", "train.lr": "0.5"}},
		{"whole", map[string]string{"train.grad_clip.max_norm": "35", "train.grad_clip.norm_type": "2", "train.lr": "0.02", "train.epochs": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(efs, tc.name, nil)
			if err != nil {
				t.Fatal(err)
			}
			values := mustValues(t, cfg, "train")
			for k, v := range tc.want {
				if values[k] != v {
					t.Errorf("%s = %s, want %s", k, values[k], v)
				}
			}
			// Keys reset by _delete_ report the defaults as their origin again.
			if tc.name == "replace" && !strings.HasPrefix(cfg.Origin("train.grad_clip.norm_type"), "configs/defaults.yaml:") {
				t.Errorf("origin of train.grad_clip.norm_type = %q after _delete_", cfg.Origin("train.grad_clip.norm_type"))
			}
		})
	}
}

func TestBaseResolutionEmbedded(t *testing.T) {
	efs := testFS(t, map[string]string{
		"_base_/models/m.yaml":    "_base_: ../schedules/s\nmodel: {legacy_plus_one: true}\n",
		"_base_/schedules/s.yaml": "train: {epochs: 3, lr_steps: [2]}\n",
		// from the embedded root when not found next to the including file
		"_base_/models/n.yaml": "_base_: top_a\n",
		"top_a.yaml":           "train: {lr: 0.3}\n",
		"top_b.yaml":           "_base_: [_base_/models/m.yaml, _base_/models/n]\n",
	})
	cfg, err := load(efs, "top_b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Model.LegacyPlusOne || cfg.Train.Epochs != 3 || cfg.Train.LR != 0.3 {
		t.Errorf("bases not applied: legacy_plus_one %v, epochs %d, lr %g", cfg.Model.LegacyPlusOne, cfg.Train.Epochs, cfg.Train.LR)
	}
	if got := names(efs); strings.Join(got, ",") != "top_a,top_b" {
		t.Errorf("names = %v, want [top_a top_b] (no defaults, no bases)", got)
	}
}

func TestUnknownConfigName(t *testing.T) {
	_, err := Load("fast_rcnn_tiny", nil)
	want := `unknown config "fast_rcnn_tiny" (did you mean "fast_rcnn_tiny_synth"?); embedded configs: ` + strings.Join(Names(), ", ")
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant prefix %s", err, want)
	}
	if _, err := Load("defaults", nil); err == nil {
		t.Error("Load(\"defaults\") succeeded; the defaults are not a config of their own")
	}
	if _, err := Load("testdata/no_such_file.yaml", nil); err == nil || !strings.Contains(err.Error(), "no_such_file.yaml") {
		t.Errorf("missing file: error = %v", err)
	}
}

func TestSuggestion(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"train.lrr", "train.lr"},
		{"train.warmup_iter", "train.warmup_iters"},
		{"model.backbone.frozen_stage", "model.backbone.frozen_stages"},
		{"model.backbone.foo", "model.backbone.type"}, // never the ancestor "model.backbone"
		{"tran", "train"},
		{"dataset.synthetic.widht", "dataset.synthetic.width"},
	} {
		err := unknownKey("x", tc.key)
		if want := `unknown key "` + tc.key + `" (did you mean "` + tc.want + `"?)`; err.Msg != want {
			t.Errorf("unknownKey(%q) = %s, want %s", tc.key, err.Msg, want)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"lr", "lrr", 1}, {"flaw", "lawn", 2},
	} {
		if got := levenshtein(tc.a, tc.b); got != tc.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := levenshtein(tc.b, tc.a); got != tc.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestDeleteWholeConfig(t *testing.T) {
	efs := testFS(t, map[string]string{
		"base.yaml": "train: {lr: 0.5}\nname: from-base\n",
		"top.yaml":  "_base_: base\n_delete_: True\ntrain: {epochs: 2, lr_steps: [1]}\n",
	})
	cfg, err := load(efs, "top", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Train.LR != 0.02 || cfg.Train.Epochs != 2 || cfg.Name != "top" {
		t.Errorf("lr %g, epochs %d, name %q; want the defaults' 0.02, 2 and top", cfg.Train.LR, cfg.Train.Epochs, cfg.Name)
	}
	if o := cfg.Origin("train.epochs"); o != "configs/top.yaml:3" {
		t.Errorf("origin of train.epochs = %q", o)
	}
}
