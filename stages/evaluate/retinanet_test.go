package evaluate

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

func init() { RegisterLoader(loadRandomDetector) }

// loadRandomDetector builds the config's real detector with fixed random
// weights (the fixture's checkpoint is a fake one, checked as the others).
func loadRandomDetector(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error) {
	if err := checkWeights(checkpoint); err != nil {
		return nil, err
	}
	d, err := detector.Build(e, cfg, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		return nil, err
	}
	nn.SetTraining(d, false)
	return d, nil
}

// TestRetinaNetThroughTheStage runs the stage on a real RetinaNet, the one
// detector without proposals or RoI heads: untrained, every class sits near
// its 0.01 prior, so score_thr 0 lets max_per_img detections per image
// through, and they must reach the results file, the metrics (re-evaluated
// bit for bit) and the detections table as a two-stage model's do.
func TestRetinaNetThroughTheStage(t *testing.T) {
	f := localFixture(t)
	out := run(t, f, loadRandomDetector, "retinanet_tiny_synth", "test_cfg.score_thr=0", "test_cfg.max_per_img=20")
	m := metricValues(t, f, out, zoo.PipelineRetinaNet)["bbox"]
	if _, ok := m["bbox_mAP"]; !ok {
		t.Fatalf("no bbox_mAP among %d bbox metrics", len(m))
	}
	dets := reevaluate(t, f, out, "bbox", m)
	checkDetectionsTable(t, f, out, "bbox", dets)
	gt := loadGT(t, f)
	if want := 20 * len(gt.Images); len(dets) != want {
		t.Fatalf("%d detections, want max_per_img 20 for each of %d images", len(dets), len(gt.Images))
	}
	size := map[int64][2]float64{}
	for _, im := range gt.Images {
		size[im.ID] = [2]float64{float64(im.Width), float64(im.Height)}
	}
	for i, d := range dets {
		// Logits are the prior's bias plus small N(0, 0.01) conv outputs.
		if d.Score < 0.002 || d.Score > 0.05 {
			t.Fatalf("detection %d: score %g, want near the prior 0.01", i, d.Score)
		}
		wh, b := size[d.ImageID], d.BBox
		if b[0] < 0 || b[1] < 0 || b[2] <= 0 || b[3] <= 0 || b[0]+b[2] > wh[0]+1e-3 || b[1]+b[3] > wh[1]+1e-3 || math.IsNaN(b[0]) {
			t.Fatalf("detection %d: box %v outside image %d (%gx%g)", i, b, d.ImageID, wh[0], wh[1])
		}
	}
}
