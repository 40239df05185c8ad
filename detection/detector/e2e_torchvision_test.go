package detector

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/schemas"
)

// tvPhoto is one photo of testdata/tv_e2e.json (gen_torchvision_e2e.py):
// torchvision's detections of the tiny random-weight Faster R-CNN.
type tvPhoto struct {
	File          string
	Width, Height int
	Boxes         [][4]float32
	Scores        []float32
	Labels        []int32 // 1..3, background 0
}

// TestTorchvisionConventionsReproduceTorchvisionDetections runs the whole
// detector, resize to postprocess, on two real photos with
// model.conventions=torchvision and torchvision's weights: each of
// torchvision's detections must have a detflow twin of the same class at
// IoU >= 0.999 with a score within 1e-4.
func TestTorchvisionConventionsReproduceTorchvisionDetections(t *testing.T) {
	raw, err := os.ReadFile("testdata/tv_e2e.json")
	if err != nil {
		t.Fatal(err)
	}
	var photos []tvPhoto
	if err := json.Unmarshal(raw, &photos); err != nil {
		t.Fatal(err)
	}
	cfg := tvConfig(t, "model.conventions=torchvision", "data.img_scale=[1333,800]")
	e := newEngine()
	d, err := NewFasterRCNNFromConfig(e, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFrom(context.Background(), d, "testdata/tv_faster_rcnn_tiny.pth", LoadFromOptions{Strict: true}); err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(d, false)
	opts, err := batch.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range photos {
		img, err := os.ReadFile("testdata/" + p.File)
		if err != nil {
			t.Fatal(err)
		}
		rec := &schemas.Record{ImageID: int64(i), FileName: p.File, Width: int32(p.Width), Height: int32(p.Height), Image: img}
		it, err := batch.Prepare(rec, opts, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		dets, err := d.Predict(batch.Collate(e, []*batch.Item{it}, cfg.Data.SizeDivisor))
		if err != nil {
			t.Fatal(err)
		}
		matched := matchDetections(p, dets[0])
		t.Logf("%s (%dx%d): %d of torchvision's %d detections matched, detflow has %d", p.File, it.W, it.H, matched, len(p.Scores), dets[0].Len())
		if dets[0].Len() != len(p.Scores) || matched < len(p.Scores)*98/100 {
			t.Errorf("%s: %d of %d matched (IoU >= 0.999, score within 1e-4), want at least 98%%", p.File, matched, len(p.Scores))
		}
	}
}

// matchDetections pairs torchvision's detections with detflow's greedily.
func matchDetections(want tvPhoto, got detection.Detections) int {
	used := make([]bool, got.Len())
	n := 0
	for j, wb := range want.Boxes {
		for k := range used {
			if used[k] || got.Labels[k] != want.Labels[j]-1 || math.Abs(float64(got.Scores[k]-want.Scores[j])) > 1e-4 {
				continue
			}
			if iou(wb[:], got.Boxes[4*k:4*k+4]) >= 0.999 {
				used[k] = true
				n++
				break
			}
		}
	}
	return n
}

func iou(a, b []float32) float64 {
	iw := math.Min(float64(a[2]), float64(b[2])) - math.Max(float64(a[0]), float64(b[0]))
	ih := math.Min(float64(a[3]), float64(b[3])) - math.Max(float64(a[1]), float64(b[1]))
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	area := func(x []float32) float64 { return float64(x[2]-x[0]) * float64(x[3]-x[1]) }
	return inter / (area(a) + area(b) - inter)
}
