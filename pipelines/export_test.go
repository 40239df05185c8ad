package pipelines

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/nn/pth"
)

var updateExport = flag.Bool("update-export", false, "rewrite testdata/tv_export_tiny.pth")

// tvTinyRun makes a run folder whose config is the tiny torchvision Faster
// R-CNN of detection/detector/testdata (gen_torchvision_fixtures.py) with
// model.load_from its weights and nothing trained.
func tvTinyRun(t *testing.T, workdir string) {
	t.Helper()
	weights, err := filepath.Abs("../detection/detector/testdata/tv_faster_rcnn_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, "pipeline=faster_rcnn", "model.type=FasterRCNN",
		"model.backbone.depth=18", "model.backbone.base_channels=4", "model.backbone.norm_eval=true",
		"model.neck.in_channels=[4,8,16,32]", "model.neck.out_channels=8", "model.rpn_head.feat_channels=8",
		"model.rpn_head.anchor_scales=[4]",
		"model.roi_head.bbox_head.fc_out_channels=32", "model.roi_head.bbox_head.num_classes=3",
		"model.roi_head.roi_extractor.sampling_ratio=2", "model.roi_head.roi_extractor.aligned=false",
		"model.conventions=torchvision", "model.load_from="+weights)
	y, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(workdir, "tiny"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(workdir, "tiny", "config.yaml"), y, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestExportTorchvisionRoundTrip exports torchvision weights that went
// through detflow: every tensor comes back under its torchvision name with
// its values, but the background's box deltas, which torchvision never
// uses, are zero. The export is the committed fixture that
// testdata/check_torchvision_export.py loads into torchvision with
// strict=True and runs on the photos of detection/detector/testdata.
func TestExportTorchvisionRoundTrip(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	tvTinyRun(t, work)
	out := filepath.Join(work, "export.pth")
	if err := Export(ctx, newFS(t), work, "tiny", ExportTorchvision, out); err != nil {
		t.Fatal(err)
	}
	got, err := pth.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pth.Load("../detection/detector/testdata/tv_faster_rcnn_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(slices.Values(got.Names)), slices.Sorted(slices.Values(want.Names))) {
		t.Fatalf("names:\n got %v\nwant %v", got.Names, want.Names)
	}
	for _, k := range want.Names {
		g, w := got.Tensors[k], want.Tensors[k]
		wd := slices.Clone(w.F32)
		if k == "roi_heads.box_predictor.bbox_pred.weight" || k == "roi_heads.box_predictor.bbox_pred.bias" {
			clear(wd[:4*len(wd)/w.Shape[0]]) // background rows 0..3
		}
		if !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.F32, wd) {
			t.Errorf("%s differs after the round trip", k)
		}
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	const fixture = "testdata/tv_export_tiny.pth"
	if *updateExport {
		if err := os.WriteFile(fixture, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, committed) {
		t.Errorf("the export differs from %s: rerun with -update-export and testdata/check_torchvision_export.py", fixture)
	}
}

// TestExportRejectsUnknownFormat names the format and the valid ones.
func TestExportRejectsUnknownFormat(t *testing.T) {
	work := t.TempDir()
	tvTinyRun(t, work)
	err := Export(context.Background(), newFS(t), work, "tiny", "onnx", filepath.Join(work, "x"))
	if err == nil || !strings.Contains(err.Error(), `format "onnx": want torchvision or safetensors`) {
		t.Errorf("format onnx: %v", err)
	}
}
