package evaluate

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

// shared is the local fixture every in-process test reads; it is built
// once (the dataset and records stages take a few seconds) and never
// modified.
var shared struct {
	once sync.Once
	dir  string
	f    *fixture
	err  error
}

// removeFixture deletes the shared fixture after the tests.
func removeFixture() {
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

func localFixture(t *testing.T) *fixture {
	t.Helper()
	shared.once.Do(func() {
		ctx := context.Background()
		fsys, err := storage.New(ctx, storage.Options{})
		if err != nil {
			shared.err = err
			return
		}
		dir, err := os.MkdirTemp("", "detflow-evaluate-test-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		shared.f = newFixture(t, ctx, fsys, dir)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	if shared.f == nil {
		t.Fatal("fixture failed to build in an earlier test")
	}
	return shared.f
}

// run runs the stage and returns its output folder.
func run(t *testing.T, f *fixture, load Loader, config string, sets ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "evaluate")
	env := f.env(t, out, config, sets...)
	if err := (Stage{Load: load}).Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if env.Info["checkpoint"] != latestCheckpointName {
		t.Errorf("manifest info checkpoint %v, want %s", env.Info["checkpoint"], latestCheckpointName)
	}
	if _, err := os.Stat(filepath.Join(out, partsDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("worker parts folder left behind: %v", err)
	}
	return out
}

// metricValues reads the metrics table of an output folder, checking the
// columns every row shares, and returns iou type -> metric -> value.
func metricValues(t *testing.T, f *fixture, out, pipeline string) map[string]map[string]float64 {
	t.Helper()
	rows, err := schemas.Read[schemas.Metric](context.Background(), f.fsys, filepath.Join(out, MetricsName), schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]float64{}
	for _, r := range rows {
		if r.Run != "r1" || r.Pipeline != pipeline || r.Stage != "evaluate" || r.Checkpoint != latestCheckpointName || r.Dataset != Split || r.Created.IsZero() {
			t.Errorf("metric row %+v: wrong run, pipeline, stage, checkpoint, data set or time", r)
		}
		if got[r.IoUType] == nil {
			got[r.IoUType] = map[string]float64{}
		}
		if _, dup := got[r.IoUType][r.Metric]; dup {
			t.Errorf("metric %s/%s written twice", r.IoUType, r.Metric)
		}
		got[r.IoUType][r.Metric] = r.Value
	}
	if v := got[""]["inference_images_per_s"]; !(v > 0) || math.IsInf(v, 0) {
		t.Errorf("inference_images_per_s = %v, want a positive speed", v)
	}
	return got
}

// groundTruthPath is the val annotations file of the fixture.
func groundTruthPath(t *testing.T, f *fixture) string {
	t.Helper()
	desc, err := dataset.ReadDescriptor(context.Background(), f.fsys, f.dataset)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := desc.Split(Split)
	if err != nil {
		t.Fatal(err)
	}
	return loc.Annotations
}

// reevaluate evaluates the written results file from scratch, as
// pycocotools would, and checks every metric row equals the table's, bit
// for bit. It returns the file's detections.
func reevaluate(t *testing.T, f *fixture, out, kind string, metrics map[string]float64) []coco.Detection {
	t.Helper()
	ctx := context.Background()
	resPath := filepath.Join(out, ResultsName(kind))
	rf, err := os.Open(resPath)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	dets, err := coco.ReadResults(ctx, rf)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := os.Open(groundTruthPath(t, f))
	if err != nil {
		t.Fatal(err)
	}
	defer gt.Close()
	rf.Seek(0, 0)
	res, err := coco.EvaluateFiles(ctx, gt, rf, coco.IoUType(kind))
	if err != nil {
		t.Fatal(err)
	}
	if coco.IoUType(kind) == coco.Proposal {
		// EvaluateFiles uses the default maxDets, which the configs keep.
		if !slices.Equal(res.Params.MaxDets, []int{100, 300, 1000}) {
			t.Fatalf("default proposal maxDets changed: %v", res.Params.MaxDets)
		}
	}
	rows := res.Rows()
	if len(rows) != len(metrics) {
		t.Errorf("%s: %d metrics in the table, re-evaluation gives %d", kind, len(metrics), len(rows))
	}
	for _, r := range rows {
		if v, ok := metrics[r.Name]; !ok || math.Float64bits(v) != math.Float64bits(r.Value) {
			t.Errorf("%s %s: table %v, re-evaluating %s gives %v", kind, r.Name, v, ResultsName(kind), r.Value)
		}
	}
	return dets
}

// checkDetectionsTable checks the detections table holds the results
// file's rows, in order, with the checkpoint.
func checkDetectionsTable(t *testing.T, f *fixture, out, kind string, dets []coco.Detection) {
	t.Helper()
	rows, err := schemas.Read[schemas.Detection](context.Background(), f.fsys, filepath.Join(out, DetectionsName), schemas.Detections)
	if err != nil {
		t.Fatal(err)
	}
	var kr []schemas.Detection
	for _, r := range rows {
		if r.IoUType == kind {
			kr = append(kr, r)
		}
	}
	if len(kr) != len(dets) {
		t.Fatalf("%s: detections table has %d rows, the results file %d", kind, len(kr), len(dets))
	}
	for i, r := range kr {
		if d := detectionOf(r, int64(i+1)); d != dets[i] || r.Checkpoint != latestCheckpointName {
			t.Fatalf("%s row %d: table %+v, results file %+v", kind, i, r, dets[i])
		}
	}
}

func TestGroundTruthDetectionsScoreOne(t *testing.T) {
	f := localFixture(t)
	out := run(t, f, loadGroundTruthModel, configs.Default)
	m := metricValues(t, f, out, zoo.PipelineFastRCNN)["bbox"]
	// COCOeval's precision is tp/(tp+fp+eps), so a perfect score can be
	// 1 - 2.2e-16; reevaluate checks the exact bits against the file.
	one := func(v float64) bool { return math.Abs(v-1) < 1e-12 }
	if !one(m["bbox_mAP"]) || !one(m["bbox_mAP_50"]) || !one(m["bbox_AR_100"]) {
		t.Errorf("perfect detections: mAP %v mAP_50 %v AR_100 %v, want 1", m["bbox_mAP"], m["bbox_mAP_50"], m["bbox_AR_100"])
	}
	perCat := 0
	for name, v := range m {
		if strings.HasPrefix(name, "AP/") {
			perCat++
			if !one(v) && v != -1 {
				t.Errorf("%s = %v, want 1 (or -1 without ground truth)", name, v)
			}
		}
	}
	if perCat == 0 {
		t.Error("no per-category AP rows")
	}
	dets := reevaluate(t, f, out, "bbox", m)
	checkDetectionsTable(t, f, out, "bbox", dets)
	// One detection per non-crowd ground truth box of the val split.
	gt := loadGT(t, f)
	want := 0
	for _, a := range gt.Annotations {
		if !a.IsCrowd {
			want++
		}
	}
	if len(dets) != want {
		t.Errorf("results file has %d detections, want %d (non-crowd ground truth)", len(dets), want)
	}
	summary, err := os.ReadFile(filepath.Join(out, SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	if line := " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000\n"; !strings.Contains(string(summary), line) {
		t.Errorf("summary.txt lacks %q:\n%s", line, summary)
	}
}

func loadGT(t *testing.T, f *fixture) *coco.Dataset {
	t.Helper()
	gt, err := loadGroundTruth(context.Background(), f.fsys, groundTruthPath(t, f), false)
	if err != nil {
		t.Fatal(err)
	}
	return gt
}

func TestJitteredDetectionsMatchTheResultsFile(t *testing.T) {
	f := localFixture(t)
	out := run(t, f, loadJitteredModel, configs.Default, "evaluate.batch=3")
	m := metricValues(t, f, out, zoo.PipelineFastRCNN)["bbox"]
	if v := m["bbox_mAP"]; !(v > 0 && v < 1) {
		t.Errorf("jittered detections: mAP %v, want within (0, 1)", v)
	}
	dets := reevaluate(t, f, out, "bbox", m)
	checkDetectionsTable(t, f, out, "bbox", dets)
}

func TestProposalRecall(t *testing.T) {
	f := localFixture(t)
	out := run(t, f, loadGroundTruthModel, "rpn_tiny_synth")
	m := metricValues(t, f, out, zoo.PipelineRPN)
	if len(m["bbox"]) != 0 {
		t.Errorf("rpn pipeline wrote bbox metrics: %v", m["bbox"])
	}
	p := m["proposal"]
	for _, name := range []string{"AR@100", "AR@300", "AR@1000"} {
		if math.Abs(p[name]-1) > 1e-12 {
			t.Errorf("%s = %v, want 1 for ground-truth proposals", name, p[name])
		}
	}
	reevaluate(t, f, out, "proposal", p)
}

func TestTwoStageModelEvaluatesDetectionsAndProposals(t *testing.T) {
	f := localFixture(t)
	sets := []string{"evaluate.iou_types=[bbox, proposal]"}
	out := run(t, f, loadTwoStageModel, "faster_rcnn_tiny_synth", sets...)
	m := metricValues(t, f, out, zoo.PipelineFasterRCNN)
	if v := m["bbox"]["bbox_mAP"]; !(v > 0 && v < 1) {
		t.Errorf("bbox_mAP %v, want the jittered detections' score in (0, 1)", v)
	}
	if v := m["proposal"]["AR@1000"]; math.Abs(v-1) > 1e-12 {
		t.Errorf("AR@1000 %v, want 1 for ground-truth proposals", v)
	}
	checkDetectionsTable(t, f, out, "bbox", reevaluate(t, f, out, "bbox", m["bbox"]))
	checkDetectionsTable(t, f, out, "proposal", reevaluate(t, f, out, "proposal", m["proposal"]))

	// A model without proposals cannot be evaluated for them.
	env := f.env(t, filepath.Join(t.TempDir(), "evaluate"), "faster_rcnn_tiny_synth", sets...)
	err := (Stage{Load: loadJitteredModel}).Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "PredictProposals") {
		t.Errorf("error %v, want one saying the model has no PredictProposals", err)
	}
}

func TestCorruptShardIsNamed(t *testing.T) {
	f := localFixture(t)
	bad := *f
	bad.records = filepath.Join(t.TempDir(), "records")
	copyDir(t, f.records, bad.records)
	rd, err := records.Open(context.Background(), f.fsys, bad.records, Split)
	if err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(bad.records, Split, rd.Index.Shards[1].File)
	data, err := os.ReadFile(shard)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(shard, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := bad.env(t, filepath.Join(t.TempDir(), "evaluate"), configs.Default)
	err = (Stage{Load: loadGroundTruthModel}).Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), rd.Index.Shards[1].File) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("error %v, want one naming the corrupt shard %s", err, rd.Index.Shards[1].File)
	}
}

func TestRunChecksBeforeStarting(t *testing.T) {
	f := localFixture(t)
	ctx := context.Background()
	noLatest := *f
	noLatest.train = t.TempDir()
	cases := []struct {
		name string
		f    *fixture
		load Loader
		want string
		sets []string
	}{
		{"unregistered loader", f, loadUnregistered, "not registered", nil},
		{"no loader", f, nil, "no model loader", nil},
		{"closure", f, func(context.Context, *configs.Config, *tensor.Engine, string) (Model, error) { return nil, nil }, "closure", nil},
		{"no latest checkpoint", &noLatest, loadGroundTruthModel, "latest checkpoint", nil},
		{"classes unlike the data's", f, loadGroundTruthModel, "model.roi_head.bbox_head.num_classes is 80 but the val split has",
			[]string{"model.roi_head.bbox_head.num_classes=80"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "evaluate")
			err := (Stage{Load: c.load}).Run(ctx, c.f.env(t, out, configs.Default, c.sets...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed check wrote %s", out)
			}
		})
	}
}

func TestStageContract(t *testing.T) {
	s := Stage{}
	if s.Name() != "evaluate" || s.Version() != 1 {
		t.Errorf("name %q version %d", s.Name(), s.Version())
	}
	if got := s.Inputs(); !slices.Equal(got, []string{"dataset", "records", "train"}) {
		t.Errorf("inputs %v", got)
	}
	if got := (Stage{ModelStage: "train_rpn"}).Inputs(); got[2] != "train_rpn" {
		t.Errorf("inputs with ModelStage: %v", got)
	}
	for _, k := range []string{"evaluate", "test_cfg", "data", "model"} {
		if !slices.Contains(s.ConfigKeys(), k) {
			t.Errorf("config keys %v lack %q", s.ConfigKeys(), k)
		}
	}
}
