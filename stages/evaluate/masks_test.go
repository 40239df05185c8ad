package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

func init() {
	RegisterLoader(loadMaskModel)
}

func loadMaskModel(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error) {
	return maskModel{fakeModel{jitter: true}}, checkWeights(checkpoint)
}

// maskModel detects like the jittered model and gives each detection the
// mask of its box in the original image, as a mask head's pasted masks
// come out of Predict.
type maskModel struct{ fakeModel }

func (m maskModel) Predict(b *batch.Batch) ([]detection.Detections, error) {
	out, err := m.fakeModel.Predict(b)
	for i, it := range b.Items {
		d := &out[i]
		d.Masks = []coco.RLE{} // a mask model's image without detections
		for k := range d.Len() {
			x := d.Boxes[4*k : 4*k+4]
			box := coco.Box{float64(x[0]), float64(x[1]), float64(x[2] - x[0]), float64(x[3] - x[1])}
			d.Masks = append(d.Masks, coco.BoxToRLE(box, it.OrigH, it.OrigW))
		}
	}
	return out, err
}

// runKinds runs the stage with evaluate.iou_types set to kinds directly:
// the registry's mask pipelines, which accept segm, are declared with the
// model.
func runKinds(t *testing.T, f *fixture, load Loader, kinds ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "evaluate")
	env := f.env(t, out, configs.Default)
	env.Config.Evaluate.IoUTypes = kinds
	if err := (Stage{Load: load}).Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMasksReachSegmResultsTableAndMetrics(t *testing.T) {
	f := localFixture(t)
	out := runKinds(t, f, loadMaskModel, "bbox", "segm")
	m := metricValues(t, f, out, zoo.PipelineFastRCNN)
	if v := m["segm"]["segm_mAP"]; !(v > 0 && v < 1) {
		t.Errorf("segm_mAP %v, want the box masks' score in (0, 1)", v)
	}
	if _, ok := m["segm"]["segm_mAP_50"]; !ok || len(m["segm"]) != len(m["bbox"]) {
		t.Errorf("segm rows %v, want the 12 stats and per-category AP as bbox has", m["segm"])
	}
	segm := reevaluate(t, f, out, "segm", m["segm"])
	checkDetectionsTable(t, f, out, "segm", segm)
	bbox := reevaluate(t, f, out, "bbox", m["bbox"])
	if len(segm) == 0 || len(segm) != len(bbox) {
		t.Fatalf("%d segm results for %d boxes", len(segm), len(bbox))
	}
	for i, d := range segm {
		if d.Segmentation.IsZero() || !bbox[i].Segmentation.IsZero() || d.BBox != bbox[i].BBox {
			t.Fatalf("result %d: segm %+v, bbox %+v: want the mask in the segm file only, same boxes", i, d, bbox[i])
		}
	}
	rows, err := schemas.Read[schemas.Detection](context.Background(), f.fsys, filepath.Join(out, DetectionsName), schemas.Detections)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := coco.ParseRLEString(r.Mask, int(r.MaskHeight), int(r.MaskWidth)); r.Mask == "" || err != nil {
			t.Fatalf("%s row without a readable mask: %+v (%v)", r.IoUType, r, err)
		}
	}
	summary, err := os.ReadFile(filepath.Join(out, SummaryName))
	if err != nil || !strings.Contains(string(summary), "Evaluate annotation type *segm*") {
		t.Errorf("summary.txt lacks the segm block (%v):\n%s", err, summary)
	}
}

func TestMaskModelEvaluatedForBoxesStillPublishesMasks(t *testing.T) {
	f := localFixture(t)
	out := runKinds(t, f, loadMaskModel, "bbox")
	if m := metricValues(t, f, out, zoo.PipelineFastRCNN); len(m["segm"]) != 0 {
		t.Errorf("segm metrics without iou type segm: %v", m["segm"])
	}
	rf, err := os.Open(filepath.Join(out, ResultsName("segm")))
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	dets, err := coco.ReadResults(context.Background(), rf)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) == 0 || dets[0].Segmentation.IsZero() {
		t.Errorf("results.segm.json: %d rows, first %+v; want masks", len(dets), dets)
	}
}

func TestSegmOfABoxModelIsRefused(t *testing.T) {
	f := localFixture(t)
	env := f.env(t, filepath.Join(t.TempDir(), "evaluate"), configs.Default)
	env.Config.Evaluate.IoUTypes = []string{"bbox", "segm"}
	err := (Stage{Load: loadJitteredModel}).Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "iou type segm: the model returned no instance masks") {
		t.Errorf("error %v, want one saying the model returned no masks", err)
	}
}

func TestConvertRefusesMasksThatDoNotFitTheImage(t *testing.T) {
	it := &batch.Item{ImageID: 4, OrigW: 6, OrigH: 5}
	cats := map[int32]int64{0: 1}
	det := func(m coco.RLE) *detection.Detections {
		return &detection.Detections{Boxes: []float32{0, 0, 2, 2}, Scores: []float32{0.5}, Labels: []int32{0}, Masks: []coco.RLE{m}}
	}
	for _, tt := range []struct {
		name string
		d    *detection.Detections
		want string
	}{
		{"frame", det(coco.BoxToRLE(coco.Box{0, 0, 2, 2}, 6, 5)), "box 0: mask of 5x6 pixels, the image is 6x5"},
		{"counts", det(coco.RLE{H: 5, W: 6, Counts: []uint32{3, 4}}), "box 0: mask: counts sum to 7, want h*w = 30"},
		{"count", &detection.Detections{Boxes: []float32{0, 0, 2, 2}, Scores: []float32{0.5}, Masks: []coco.RLE{}}, "0 masks for 1 scores"},
	} {
		if _, _, err := convert(it, tt.d, "bbox", cats); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	dets, rows, err := convert(it, det(coco.BoxToRLE(coco.Box{1, 1, 2, 3}, 5, 6)), "segm", cats)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := dets[0].Segmentation.Decode(); err != nil || m.Area() != 6 || rows[0].Mask != m.String() || rows[0].IoUType != "segm" {
		t.Errorf("segm detection %+v row %+v (%v)", dets[0], rows[0], err)
	}
}
