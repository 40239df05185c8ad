package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// pipeline runs the CLI in process and returns its exit code and output.
func pipeline(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := pipeline(t, "help")
	if code != 0 || !strings.Contains(out, "run") || !strings.Contains(out, "coco-eval") {
		t.Errorf("help: code %d, output %q", code, out)
	}
	code, out, _ = pipeline(t, "version")
	if code != 0 || !strings.HasPrefix(out, "detflow ") {
		t.Errorf("version: code %d, output %q", code, out)
	}
	for _, cmd := range []string{"run", "stages", "status", "coco-eval", "version"} {
		code, _, errOut := pipeline(t, cmd, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: pipeline "+cmd) {
			t.Errorf("%s --help: code %d, stderr %q", cmd, code, errOut)
		}
	}
	code, _, errOut := pipeline(t, "run", "--help")
	if code != 0 || !strings.Contains(errOut, "--runner") || !strings.Contains(errOut, "--endpoint") {
		t.Errorf("run --help does not list Beam's flags: %q", errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"run"}, "want one pipeline name"},
		{[]string{"run", "nope"}, `unknown pipeline "nope"`},
		{[]string{"run", "fast_rcnn_with_proposals", "--devices", "tpu:1"}, `unknown device kind "tpu"`},
		{[]string{"run", "fast_rcnn_with_proposals", "--progress", "loud"}, `--progress "loud"`},
		{[]string{"run", "fast_rcnn_with_proposals", "--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"run", "fast_rcnn_with_proposals", "--run", "../x"}, "one plain folder name"},
		{[]string{"run", "fast_rcnn_with_proposals", "--set", "train.lrr=1"}, "train.lr"},
		{[]string{"run", "fast_rcnn_with_proposals", "--bogus-flag"}, "unknown flag: --bogus-flag"},
		{[]string{"coco-eval", "--gt", "x.json"}, "want --gt GT.json --results RES.json"},
	}
	for _, tt := range tests {
		code, _, errOut := pipeline(t, tt.args...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("pipeline %v: code %d, stderr %q, want it to contain %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestBeamFlagsAreAccepted(t *testing.T) {
	work := t.TempDir()
	code, out, errOut := pipeline(t, "run", "fast_rcnn_with_proposals", "--workdir", work, "--dry-run",
		"--runner", "direct", "--endpoint", "localhost:8073", "--project", "p")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, "dataset") {
		t.Errorf("dry run printed no plan: %q", out)
	}
}

func TestRunWholePipelineThenRerunSkips(t *testing.T) {
	work := t.TempDir()
	small := []string{"--set", "dataset.synthetic.train=6", "--set", "dataset.synthetic.val=3", "--set", "train.epochs=1",
		"--set", "train.lr_steps=[1]", "--workdir", work, "--progress", "never"}
	code, out, errOut := pipeline(t, append([]string{"run", "fast_rcnn_with_proposals"}, small...)...)
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	for _, st := range []string{"dataset", "proposals", "records", "train", "evaluate"} {
		if !strings.Contains(out, st) {
			t.Errorf("summary lacks stage %s: %q", st, out)
		}
	}
	runDir := filepath.Join(work, "fast_rcnn_tiny_synth")
	for _, p := range []string{"run.json", "config.yaml", "dataset/_MANIFEST.json", "logs/dataset.log",
		"proposals/_MANIFEST.json", "records/_MANIFEST.json", "train/_MANIFEST.json", "train/latest",
		"evaluate/_MANIFEST.json", "evaluate/results.bbox.json", "evaluate/metrics.parquet"} {
		if _, err := os.Stat(filepath.Join(runDir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	code, out, _ = pipeline(t, append([]string{"stages", "fast_rcnn_with_proposals"}, small[:len(small)-2]...)...)
	if code != 0 || strings.Count(out, "up to date") != 5 {
		t.Errorf("stages after a full run: code %d, output %q", code, out)
	}
	code, out, _ = pipeline(t, "status", "--workdir", work)
	if code != 0 || !strings.Contains(out, "fast_rcnn_tiny_synth") || strings.Count(out, "published") != 5 {
		t.Errorf("status: code %d, output %q", code, out)
	}
	// A key only training reads reruns train and evaluate, as the plan says.
	code, out, _ = pipeline(t, "run", "fast_rcnn_with_proposals", "--dry-run", "--workdir", work,
		"--set", "dataset.synthetic.train=6", "--set", "dataset.synthetic.val=3", "--set", "train.epochs=1",
		"--set", "train.lr_steps=[1]", "--set", "train.lr=0.01")
	if code != 0 || !strings.Contains(out, "config key train.lr changed (0.02 -> 0.01)") || !strings.Contains(out, "input train will be rebuilt") {
		t.Errorf("dry run: code %d, output %q", code, out)
	}
}

func TestDataSynth(t *testing.T) {
	out := filepath.Join(t.TempDir(), "synth")
	code, stdout, errOut := pipeline(t, "data", "synth", "--out", out, "--train", "3", "--val", "2", "--seed", "5", "--progress", "never")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, p := range []string{"annotations/instances_train.json", "annotations/instances_val.json"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("missing %s: %v (stdout %q)", p, err, stdout)
		}
	}
}

func TestCocoEvalPrintsSummaryAndWritesMetrics(t *testing.T) {
	out := filepath.Join(t.TempDir(), "metrics.parquet")
	code, stdout, errOut := pipeline(t, "coco-eval", "--gt", "../../coco/testdata/parity/random.gt.json",
		"--results", "../../coco/testdata/parity/random.res.json", "--out", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	// The first summary line as pycocotools prints it for these files.
	want := " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.120\n"
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("summary starts %q, want %q", stdout[:min(len(stdout), 90)], want)
	}
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := schemas.Read[schemas.Metric](ctx, fsys, out, schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 12 || rows[0].Metric != "bbox_mAP" || math.Abs(rows[0].Value-0.120) > 0.0005 {
		t.Errorf("metrics table: %d rows, first %+v", len(rows), rows[0])
	}
	code, _, errOut = pipeline(t, "coco-eval", "--gt", "../../coco/testdata/parity/random.gt.json", "--results", "missing.json")
	if code != 1 || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing results file: code %d, stderr %q", code, errOut)
	}
}

func TestCocoEvalSegm(t *testing.T) {
	out := filepath.Join(t.TempDir(), "metrics.parquet")
	code, stdout, errOut := pipeline(t, "coco-eval", "--type", "segm", "--gt", "../../coco/testdata/parity/segm.gt.json",
		"--results", "../../coco/testdata/parity/segm.res.json", "--out", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	// pycocotools' first summary line for these files (segm.golden.json).
	want := " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.162\n"
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("summary starts %q, want %q", stdout[:min(len(stdout), 90)], want)
	}
	rows, err := schemas.Read[schemas.Metric](context.Background(), mustLocalFS(t), out, schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 12 || rows[0].Metric != "segm_mAP" || rows[0].IoUType != "segm" {
		t.Errorf("metrics table: %d rows, first %+v", len(rows), rows[0])
	}
}

func mustLocalFS(t *testing.T) *storage.FS {
	t.Helper()
	fsys, err := storage.New(context.Background(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestCUDADevicesWithoutDriverSayWhy(t *testing.T) {
	t.Setenv("DETFLOW_LIBCUDA", "/nonexistent/libcuda.so.1")
	code, _, errOut := pipeline(t, "run", "fast_rcnn_with_proposals", "--workdir", t.TempDir(), "--devices", "cuda:0")
	if code != 1 || !strings.Contains(errOut, "--devices cuda:0: no NVIDIA driver found") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

func TestShellQuoteReadsBackInAShell(t *testing.T) {
	got := shellQuote([]string{"pipeline", "run", "x", "--set", "train.lr_steps=[8, 11]", "--run", "it's", ""})
	want := `pipeline run x --set 'train.lr_steps=[8, 11]' --run 'it'\''s' ''`
	if got != want {
		t.Errorf("shellQuote = %s, want %s", got, want)
	}
}
