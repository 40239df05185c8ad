package report_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

var update = flag.Bool("golden", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	reporttest.Golden(t, *update, name, got)
}

func fixture(t *testing.T) (*storage.FS, *report.Catalog) { return fixtureWith(t, reporttest.WriteZoo) }

// fixtureWith scans a new work directory that write fills.
func fixtureWith(t *testing.T, write func(testing.TB, *storage.FS, string)) (*storage.FS, *report.Catalog) {
	t.Helper()
	fsys, err := storage.New(context.Background(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	write(t, fsys, work)
	c, err := report.Scan(context.Background(), fsys, work)
	if err != nil {
		t.Fatal(err)
	}
	return fsys, c
}

func TestScan(t *testing.T) {
	_, c := fixture(t)
	if got, want := strings.Join(c.RunNames(), ","), "fast_rcnn_tiny_synth,faster_rcnn_r50_fpn_1x,rpn_r50_fpn_1x"; got != want {
		t.Errorf("runs %s, want %s", got, want)
	}
	var got []string
	for _, f := range c.Files {
		got = append(got, f.Run+"/"+f.Stage+":"+f.Table+"@"+f.Version)
	}
	want := []string{
		"fast_rcnn_tiny_synth/evaluate:metrics@1", "fast_rcnn_tiny_synth/proposals:metrics@1",
		"fast_rcnn_tiny_synth/train:metrics@1", "fast_rcnn_tiny_synth/train:train_log@1",
		"faster_rcnn_r50_fpn_1x/evaluate:metrics@1", "faster_rcnn_r50_fpn_1x/train:metrics@1",
		"rpn_r50_fpn_1x/evaluate:metrics@1", "rpn_r50_fpn_1x/train:metrics@1",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c.Latest().Name != reporttest.TinyRun {
		t.Errorf("latest run %s, want %s", c.Latest().Name, reporttest.TinyRun)
	}
	if _, err := c.Run("nope"); err == nil || !strings.Contains(err.Error(), `no run "nope"`) {
		t.Errorf("missing run: %v", err)
	}
}

func TestScanNoRuns(t *testing.T) {
	fsys, _ := storage.New(context.Background(), storage.Options{})
	empty := t.TempDir()
	for _, dir := range []string{empty, filepath.Join(empty, "missing")} {
		_, err := report.Scan(context.Background(), fsys, dir)
		if !errors.Is(err, report.ErrNoRuns) || !strings.Contains(err.Error(), "pipeline run") {
			t.Errorf("Scan(%s): %v, want ErrNoRuns with a hint", dir, err)
		}
	}
}

func TestScanBadRunJSON(t *testing.T) {
	fsys, _ := storage.New(context.Background(), storage.Options{})
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "r", "run.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := report.Scan(context.Background(), fsys, work)
	if err == nil || !strings.Contains(err.Error(), "run.json") {
		t.Errorf("bad run.json: %v", err)
	}
}

func TestSummary(t *testing.T) {
	fsys, c := fixture(t)
	for _, run := range []string{reporttest.TinyRun, reporttest.RPNRun} {
		r, _ := c.Run(run)
		rows, err := report.ReadMetrics(context.Background(), fsys, c, run)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := report.WriteSummary(&b, r, rows); err != nil {
			t.Fatal(err)
		}
		golden(t, "summary_"+run+".golden", b.Bytes())
	}
}

func TestCompare(t *testing.T) {
	fsys, c := fixture(t)
	runs := []string{reporttest.TinyRun, reporttest.FasterRun, reporttest.RPNRun}
	rows := map[string][]schemas.Metric{}
	for _, run := range runs {
		ms, err := report.ReadMetrics(context.Background(), fsys, c, run)
		if err != nil {
			t.Fatal(err)
		}
		rows[run] = ms
	}
	tab := report.Compare(runs, rows)
	for _, f := range []report.Format{report.FormatTable, report.FormatCSV, report.FormatJSON, report.FormatMarkdown} {
		var b bytes.Buffer
		if err := tab.Write(&b, f); err != nil {
			t.Fatal(err)
		}
		golden(t, "compare."+string(f)+".golden", b.Bytes())
	}
}

func TestZoo(t *testing.T) {
	fsys, c := fixture(t)
	entries, err := report.ZooEntries(context.Background(), fsys, c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.WriteZoo(&b, entries); err != nil {
		t.Fatal(err)
	}
	golden(t, "zoo.md.golden", b.Bytes())
}

func TestOldSchemaVersion(t *testing.T) {
	fsys, _ := storage.New(context.Background(), storage.Options{})
	work := t.TempDir()
	reporttest.WriteRun(t, fsys, work, reporttest.Run{
		Name: "old", Pipeline: "fast_rcnn_with_proposals", Config: "fast_rcnn_tiny_synth",
		Stages: []reporttest.Stage{{Name: "evaluate", Extra: map[string][]byte{"metrics.parquet": reporttest.OldMetrics("old")}}},
	})
	c, err := report.Scan(context.Background(), fsys, work)
	if err != nil {
		t.Fatal(err)
	}
	_, err = report.ReadMetrics(context.Background(), fsys, c, "old")
	for _, want := range []string{"schema version 0", "reads version 1", "metrics.parquet", `stage "evaluate"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("old metrics table: error %v, want it to contain %q", err, want)
		}
	}
}

func TestPick(t *testing.T) {
	at := func(min int) time.Time { return reporttest.Epoch.Add(time.Duration(min) * time.Minute) }
	rows := []schemas.Metric{
		{Metric: "AR@1000", Dataset: "train", Value: 0.9, Created: at(5)},
		{Metric: "AR@1000", Dataset: "val", Value: 0.5, Created: at(1)},
		{Metric: "AR@1000", Dataset: "val", Value: 0.6, Created: at(2)},
		{Metric: "train_s_per_iter", Dataset: "train", Value: 0.4, Created: at(1)},
		{Metric: "bbox_mAP", Dataset: "synthetic/val", Value: 0.2, Created: at(3)},
		{Metric: "bbox_mAP", Dataset: "synthetic/val", Value: 0.3, Created: at(3)},
		{Metric: "loss", Dataset: "coco/train2017", Value: 1, Created: at(3)},
	}
	tests := []struct {
		metric string
		want   float64
		ok     bool
	}{
		{"AR@1000", 0.6, true},          // evaluation split wins over a newer train one
		{"train_s_per_iter", 0.4, true}, // train metrics come from the train split
		{"bbox_mAP", 0.3, true},         // equal times: the later row
		{"loss", 1, true},               // only a train row: take it
		{"missing", 0, false},
	}
	for _, tt := range tests {
		got, ok := report.Pick(rows, tt.metric)
		if ok != tt.ok || got.Value != tt.want {
			t.Errorf("Pick(%s) = %v, %v; want %v, %v", tt.metric, got.Value, ok, tt.want, tt.ok)
		}
	}
}

func TestWritePlots(t *testing.T) {
	fsys, c := fixture(t)
	ctx := context.Background()
	log, err := report.ReadTrainLog(ctx, fsys, c, reporttest.TinyRun)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := report.ReadMetrics(ctx, fsys, c, reporttest.TinyRun)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	files, err := report.WritePlots(ctx, fsys, reporttest.TinyRun, log, ms, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != report.LossPlot || filepath.Base(files[1]) != report.MAPPlot {
		t.Fatalf("wrote %v, want loss and mAP plots", files)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 250 {
			t.Errorf("%s is %v, too small to read", f, b)
		}
	}

	// One evaluated epoch: no mAP curve.
	one := report.WritePlots
	files, err = one(ctx, fsys, reporttest.TinyRun, log, reporttest.BBoxRows("r", "epoch_1.safetensors", 0.1, reporttest.Epoch), t.TempDir())
	if err != nil || len(files) != 1 {
		t.Errorf("one evaluation: files %v, err %v; want only the loss plot", files, err)
	}
	// No train log: a clear error.
	_, err = report.WritePlots(ctx, fsys, reporttest.FasterRun, nil, nil, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no train_log rows") {
		t.Errorf("no train log: %v", err)
	}
}
