package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/configs"
)

// TestConventionPresets: the _base_ presets a user adds to reproduce
// MMDetection v0's or torchvision's numerics set the keys they document,
// and the two conventions do not mix.
func TestConventionPresets(t *testing.T) {
	load := func(body string) (*configs.Config, error) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return configs.Load(path, nil)
	}
	v0, err := load("_base_: [faster_rcnn_r50_fpn_1x_coco, _base_/conventions/mmdet_v0]\n")
	if err != nil {
		t.Fatal(err)
	}
	if !v0.Model.LegacyPlusOne || v0.Model.Torchvision() {
		t.Errorf("mmdet_v0 preset: legacy_plus_one %v, conventions %q", v0.Model.LegacyPlusOne, v0.Model.Conventions)
	}
	tv, err := load("_base_: [faster_rcnn_r50_fpn_1x_coco, _base_/conventions/torchvision]\n")
	if err != nil {
		t.Fatal(err)
	}
	if tv.Model.LegacyPlusOne || !tv.Model.Torchvision() {
		t.Errorf("torchvision preset: legacy_plus_one %v, conventions %q", tv.Model.LegacyPlusOne, tv.Model.Conventions)
	}
	_, err = load("_base_: [faster_rcnn_r50_fpn_1x_coco, _base_/conventions/torchvision]\nmodel:\n  legacy_plus_one: true\n")
	if err == nil || !strings.Contains(err.Error(), "model.legacy_plus_one") {
		t.Errorf("torchvision with legacy_plus_one: got %v, want an error naming model.legacy_plus_one", err)
	}
}
