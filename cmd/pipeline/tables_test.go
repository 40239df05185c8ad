package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/pipelines"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/proposals"
	"github.com/detflow/detflow/storage"
)

// fixtureWorkdir is a work directory with the report fixtures' three runs.
func fixtureWorkdir(t *testing.T) string { return workdirWith(t, reporttest.WriteZoo) }

// workdirWith is a new work directory that write fills.
func workdirWith(t *testing.T, write func(testing.TB, *storage.FS, string)) string {
	t.Helper()
	fsys, err := storage.New(context.Background(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	write(t, fsys, work)
	return work
}

// realRun runs the dataset and proposals stages through the orchestrator on
// a three-image synthetic set: run "r" then holds real run.json, manifests,
// proposals part files and the recall metrics table.
func realRun(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	p, err := pipelines.New("fast_rcnn_with_proposals", "dataset and proposals", dataset.Stage{}, proposals.Stage{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(configs.Default, []string{"dataset.synthetic.train=1", "dataset.synthetic.val=2", "proposals.top_k_test=30"})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	var out bytes.Buffer
	opts := pipelines.Options{Workdir: work, Run: "r", Stdout: &out, Stderr: &out, Progress: "never"}
	if _, err := pipelines.Execute(ctx, fsys, p, cfg, opts); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return work
}

func TestMetricsCommand(t *testing.T) {
	work := fixtureWorkdir(t)
	code, out, errOut := pipeline(t, "metrics", "--workdir", work, "--run", reporttest.TinyRun)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, want := range []string{
		"run fast_rcnn_tiny_synth (pipeline fast_rcnn_with_proposals",
		" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.141",
		" Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.255",
		"AR@1000   = 0.792",
		"train_s_per_iter     = 0.512",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics output lacks %q:\n%s", want, out)
		}
	}
	// Without --run: the most recently updated run.
	code, out, _ = pipeline(t, "metrics", "--workdir", work)
	if code != 0 || !strings.HasPrefix(out, "run fast_rcnn_tiny_synth ") {
		t.Errorf("metrics without --run: code %d, output %.80q", code, out)
	}
}

func TestMetricsOfRealRun(t *testing.T) {
	work := realRun(t)
	code, out, errOut := pipeline(t, "metrics", "--workdir", work, "--run", "r")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, want := range []string{"proposal recall (stage proposals, data val):", "AR@1000", "images_per_s"} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics of a real run lack %q:\n%s", want, out)
		}
	}
}

func TestCompareCommand(t *testing.T) {
	work := fixtureWorkdir(t)
	code, out, errOut := pipeline(t, "compare", "--workdir", work, "--format", "markdown", reporttest.TinyRun, reporttest.FasterRun)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, want := range []string{
		"| metric | fast_rcnn_tiny_synth | faster_rcnn_r50_fpn_1x |",
		"| bbox_mAP | 0.141 | 0.364 |",
		"| AR@1000 | 0.792 | - |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q:\n%s", want, out)
		}
	}
}

func TestZooCommand(t *testing.T) {
	work := fixtureWorkdir(t)
	// A run that never got to evaluate: a row of dashes, left out.
	fsys, _ := storage.New(context.Background(), storage.Options{})
	reporttest.WriteRun(t, fsys, work, reporttest.Run{Name: "never_trained", Pipeline: "faster_rcnn", Config: "faster_rcnn_r50_fpn_1x_coco"})
	code, out, errOut := pipeline(t, "zoo", "--workdir", work)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "1 runs without metrics left out (--all lists them)") {
		t.Errorf("stderr %q does not say a run was left out", errOut)
	}
	if _, all, _ := pipeline(t, "zoo", "--workdir", work, "--all"); !strings.Contains(all, "never_trained") {
		t.Errorf("zoo --all lacks the run without metrics:\n%s", all)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "report", "testdata", "zoo.md.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("zoo output differs from report/testdata/zoo.md.golden:\n%s", out)
	}
}

func TestPlotCommand(t *testing.T) {
	work := fixtureWorkdir(t)
	out := t.TempDir()
	code, stdout, errOut := pipeline(t, "plot", reporttest.TinyRun, "--workdir", work, "--out", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, name := range []string{"loss.png", "mAP.png"} {
		p := filepath.Join(out, name)
		if !strings.Contains(stdout, p) {
			t.Errorf("plot did not print %s: %q", p, stdout)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}
	// Default folder: the run's plots/.
	if code, _, errOut := pipeline(t, "plot", reporttest.TinyRun, "--workdir", work); code != 0 {
		t.Fatalf("default --out: code %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(work, reporttest.TinyRun, "plots", "loss.png")); err != nil {
		t.Error(err)
	}
}

func TestTablesErrors(t *testing.T) {
	work := fixtureWorkdir(t)
	empty := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"metrics", "--workdir", empty}, 1, "no runs in"},
		{[]string{"metrics", "--workdir", work, "--run", "nope"}, 1, `no run "nope"`},
		{[]string{"metrics", "--workdir", work, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"compare", "--workdir", work}, 2, "want one run name or more"},
		{[]string{"compare", "--workdir", work, "--format", "xml", reporttest.TinyRun}, 2, `unknown format "xml"`},
		{[]string{"compare", "--workdir", work, reporttest.TinyRun, "nope"}, 1, `no run "nope"`},
		{[]string{"zoo", "--workdir", filepath.Join(empty, "missing")}, 1, "no runs in"},
		{[]string{"plot", "--workdir", work}, 2, "want one run name"},
		{[]string{"plot", reporttest.FasterRun, "--workdir", work}, 1, "no train_log rows"},
		{[]string{"query", "--workdir", work}, 2, "want one SQL string"},
		{[]string{"query", "--workdir", work, "--format", "xml", "select 1"}, 2, `unknown format "xml"`},
	}
	for _, tt := range tests {
		code, _, errOut := pipeline(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("pipeline %v: code %d, stderr %q; want code %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

func TestTablesOldSchema(t *testing.T) {
	fsys, _ := storage.New(context.Background(), storage.Options{})
	work := t.TempDir()
	reporttest.WriteRun(t, fsys, work, reporttest.Run{
		Name: "old", Pipeline: "fast_rcnn_with_proposals", Config: "fast_rcnn_tiny_synth",
		Stages: []reporttest.Stage{{Name: "evaluate", Extra: map[string][]byte{"metrics.parquet": reporttest.OldMetrics("old")}}},
	})
	for _, args := range [][]string{{"metrics"}, {"compare", "old"}, {"zoo"}} {
		code, _, errOut := pipeline(t, append(args, "--workdir", work)...)
		if code != 1 || !strings.Contains(errOut, "schema version 0, this detflow reads version 1") {
			t.Errorf("pipeline %v on an old table: code %d, stderr %q", args, code, errOut)
		}
	}
}

func TestTablesHelp(t *testing.T) {
	for _, cmd := range []string{"query", "metrics", "compare", "zoo", "plot"} {
		code, _, errOut := pipeline(t, cmd, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: pipeline "+cmd) {
			t.Errorf("%s --help: code %d, stderr %q", cmd, code, errOut)
		}
	}
}
