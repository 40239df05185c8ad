package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// writeTorchvisionCheckpoint saves a random faster_rcnn_tiny_synth model
// (with the config settings given) under torchvision's names, as a
// released checkpoint would come.
func writeTorchvisionCheckpoint(t *testing.T, path string, sets ...string) (*configs.Config, map[string][]float32) {
	t.Helper()
	cfg, err := configs.Load("faster_rcnn_tiny_synth", sets)
	if err != nil {
		t.Fatal(err)
	}
	d, err := detector.Build(tensor.NewEngine(tensor.NewCPU(0)), cfg, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	sd, values := nn.HostStateDict(d), map[string][]float32{}
	for k, v := range sd {
		values[k] = v.Data
	}
	tv, err := detector.FromDetflow(sd, detector.LayoutTorchvision)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.WriteSafetensors(f, tv, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return cfg, values
}

// TestEvaluateReleasedCheckpointWithoutTraining: model.load_from with the
// stages dataset, records, evaluate writes the usual evaluation outputs,
// trains nothing, exports in both formats, and the zoo lists the run.
func TestEvaluateReleasedCheckpointWithoutTraining(t *testing.T) {
	work := t.TempDir()
	ckpt := filepath.Join(t.TempDir(), "released.safetensors")
	cfg, want := writeTorchvisionCheckpoint(t, ckpt)
	code, _, errOut := pipeline(t, "run", "faster_rcnn", "--set", "model.load_from="+ckpt,
		"--set", "dataset.synthetic.train=2", "--set", "dataset.synthetic.val=3",
		"--stages", "dataset,records,evaluate", "--workdir", work, "--progress", "never")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	runDir := filepath.Join(work, "faster_rcnn_tiny_synth")
	for _, p := range []string{"evaluate/_MANIFEST.json", "evaluate/results.bbox.json", "evaluate/metrics.parquet", "evaluate/detections.parquet"} {
		if _, err := os.Stat(filepath.Join(runDir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(runDir, "train")); !os.IsNotExist(err) {
		t.Errorf("train folder: %v, want none", err)
	}
	// The run exports in both formats, which load back as the same model.
	for _, format := range []string{"torchvision", "safetensors"} {
		out := filepath.Join(t.TempDir(), "export."+format)
		code, _, errOut := pipeline(t, "export", "faster_rcnn_tiny_synth", "--format", format, "--out", out, "--workdir", work)
		if code != 0 {
			t.Fatalf("export %s: code %d, stderr %s", format, code, errOut)
		}
		d, err := detector.Build(tensor.NewEngine(tensor.NewCPU(0)), cfg, rand.New(rand.NewPCG(6, 6)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := detector.LoadFrom(context.Background(), d, out, detector.LoadFromOptions{Strict: true}); err != nil {
			t.Fatalf("load the %s export: %v", format, err)
		}
		for k, v := range nn.StateDict(d) {
			if !slices.Equal(v.Data(), want[k]) {
				t.Errorf("%s export: %s differs", format, k)
			}
		}
	}
	code, out, errOut := pipeline(t, "zoo", "--workdir", work)
	if code != 0 || !strings.Contains(out, "| load_from |") || !strings.Contains(out, "faster_rcnn_tiny_synth") {
		t.Errorf("zoo: code %d, output %q, stderr %q", code, out, errOut)
	}
}

// TestFineTuneFromCheckpointOfOtherClasses trains from a 90-class
// (91 with background) torchvision-layout checkpoint on the 9-class
// synthetic set: the train log says which layers were re-initialised.
func TestFineTuneFromCheckpointOfOtherClasses(t *testing.T) {
	work := t.TempDir()
	ckpt := filepath.Join(t.TempDir(), "coco.safetensors")
	writeTorchvisionCheckpoint(t, ckpt, "model.roi_head.bbox_head.num_classes=90")
	code, _, errOut := pipeline(t, "run", "faster_rcnn", "--set", "model.load_from="+ckpt,
		"--set", "dataset.synthetic.train=2", "--set", "dataset.synthetic.val=1", "--set", "train.epochs=1",
		"--set", "train.lr_steps=[1]", "--stages", "dataset,records,train", "--workdir", work, "--progress", "never")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	log, err := os.ReadFile(filepath.Join(work, "faster_rcnn_tiny_synth", "logs", "train.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"roi_head.bbox_head.fc_cls.weight [91 256] (model [10 256])", "roi_head.bbox_head.fc_reg.bias [360] (model [36])", "model.load_from: loaded"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("train log lacks %q:\n%s", want, log)
		}
	}
	if strings.Count(string(log), "re-initialised a class-dependent layer") != 4 {
		t.Errorf("train log does not re-initialise exactly fc_cls and fc_reg (weight, bias):\n%s", log)
	}
}
