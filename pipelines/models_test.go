package pipelines

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/evaluate"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

// TestLoadedModelsOfferWhatTheirEvalTypesNeed loads a checkpoint of each
// registered pipeline's default model through the evaluate stage's loader
// and predicts every evaluation type the registry lets its config ask for:
// a pipeline may not pass validation with an iou type whose predictions
// its model cannot make (faster_rcnn's "proposal" once failed after
// training).
func TestLoadedModelsOfferWhatTheirEvalTypesNeed(t *testing.T) {
	ctx := context.Background()
	for _, p := range zoo.Pipelines() {
		t.Run(p.Name, func(t *testing.T) {
			cfg, err := configs.Load(p.Config, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := tensor.NewEngine(tensor.NewCPU(0))
			d, err := detector.Build(e, cfg, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			ckpt := filepath.Join(t.TempDir(), "epoch_1.safetensors")
			if err := nn.SaveCheckpoint(ctx, ckpt, d, nil, nn.CheckpointInfo{Epoch: 1}); err != nil {
				t.Fatal(err)
			}
			m, err := loadDetector(ctx, cfg, e, ckpt)
			if err != nil {
				t.Fatal(err)
			}
			items := []*batch.Item{smallItem(), smallItem()}
			b := batch.Collate(e, items, 32)
			for _, kind := range p.Evals {
				dets, err := evaluate.Predict(m, p.Model, kind, b)
				if err != nil {
					t.Fatalf("iou type %s: %v", kind, err)
				}
				if len(dets) != len(items) {
					t.Fatalf("iou type %s: %d predictions for %d images", kind, len(dets), len(items))
				}
				for i := range dets {
					if err := dets[i].Check(); err != nil {
						t.Errorf("iou type %s, image %d: %v", kind, i, err)
					}
					if kind == zoo.EvalSegm && (dets[i].Masks == nil || len(dets[i].Masks) != dets[i].Len()) {
						t.Errorf("iou type segm, image %d: %d masks for %d detections", i, len(dets[i].Masks), dets[i].Len())
					}
				}
			}
		})
	}
}

// smallItem is a 64x48 noise image with two proposals, at scale 1.
func smallItem() *batch.Item {
	rng := rand.New(rand.NewPCG(3, 4))
	px := make([]float32, 3*48*64)
	for i := range px {
		px[i] = float32(rng.NormFloat64())
	}
	return &batch.Item{OrigW: 64, OrigH: 48, W: 64, H: 48, ScaleX: 1, ScaleY: 1, Pixels: px,
		Proposals: []float32{2, 3, 30, 40, 10, 5, 60, 45}, ProposalScores: []float32{0.9, 0.8}}
}
