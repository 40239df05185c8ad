package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
)

// retinaBuilder builds the tiny RetinaNet shrunk further (a ResNet-18 of
// base width 8, 16-channel FPN and head, 3 classes), BN in eval mode so
// that images do not interact through batch statistics.
func retinaBuilder(t *testing.T) Builder {
	t.Helper()
	cfg, err := configs.Load("retinanet_tiny_synth", []string{
		"model.backbone.base_channels=8", "model.backbone.norm_eval=true",
		"model.neck.in_channels=[16,32,64]", "model.neck.out_channels=16",
		"model.bbox_head.feat_channels=16", "model.bbox_head.num_classes=3",
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(e *tensor.Engine, rng *rand.Rand) (Model, error) { return detector.Build(e, cfg, rng) }
}

func retinaTrainer(t *testing.T, replicas, per int, lr float64) *Trainer {
	t.Helper()
	tr, err := NewTrainer(retinaBuilder(t), Options{Replicas: replicas, ImagesPerReplica: per,
		Schedule: nn.StepSchedule{BaseLR: lr, Gamma: 0.1}, Momentum: 0.9, WeightDecay: 1e-4, GradClip: 35, SizeDivisor: 32, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestRetinaNetReplicasMatchOneReplica: RetinaNet's per-image loss
// normalisation gives two replicas of one image the gradients of one
// replica of two, as for the two-stage detectors (the trainer's guarantee,
// TestTwoReplicasOfOneImageMatchOneReplicaOfTwo, with the tiny config's
// gradient clipping), and the replicas stay identical.
func TestRetinaNetReplicasMatchOneReplica(t *testing.T) {
	a, b := retinaTrainer(t, 2, 1, 0.01), retinaTrainer(t, 1, 2, 0.01)
	init := nn.NamedParameters(retinaTrainer(t, 1, 2, 0.01).Model())
	for k := 0; k < 3; k++ {
		items := traintest.Items(2, uint64(k))
		rngs := func() []*rand.Rand {
			return []*rand.Rand{seeded(5, "sample", uint64(k), 0), seeded(5, "sample", uint64(k), 1)}
		}
		ra, err := a.Step(items, rngs(), 0.01)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Step(items, rngs(), 0.01)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ra.Total-rb.Total) > 1e-5*(1+math.Abs(rb.Total)) {
			t.Fatalf("step %d: loss %v (2x1) vs %v (1x2)", k, ra.Total, rb.Total)
		}
	}
	pa, pb := nn.NamedParameters(a.Model()), nn.NamedParameters(b.Model())
	moved := 0
	for i := range pa {
		da, db := pa[i].Tensor.Data(), pb[i].Tensor.Data()
		for j := range da {
			if d := math.Abs(float64(da[j] - db[j])); d > 1e-4*(1+math.Abs(float64(db[j]))) {
				t.Fatalf("%s[%d]: %v (2 replicas x 1 image) vs %v (1 replica x 2 images)", pa[i].Name, j, da[j], db[j])
			}
			if da[j] != init[i].Tensor.Data()[j] {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Fatal("3 steps left every weight at its initial value")
	}
	for i, p := range nn.NamedParameters(a.replicas[1].model) {
		if !slices.Equal(pa[i].Tensor.Data(), p.Tensor.Data()) {
			t.Fatalf("replica 1's %s differs from replica 0's", p.Name)
		}
	}
}

// TestRetinaNetDivergenceStopsWithLossError: a focal loss driven by a bad
// learning rate ends in the trainer's LossError, not in silent garbage.
func TestRetinaNetDivergenceStopsWithLossError(t *testing.T) {
	tr := retinaTrainer(t, 1, 2, 1e4)
	for k := 0; k < 20; k++ {
		rngs := []*rand.Rand{seeded(1, "sample", uint64(k), 0), seeded(1, "sample", uint64(k), 1)}
		_, err := tr.Step(traintest.Items(2, uint64(k)), rngs, 1e4)
		var le *LossError
		if errors.As(err, &le) {
			t.Logf("step %d: %v", k, err)
			return
		}
		if err != nil {
			t.Fatalf("step %d: %v, want a LossError", k, err)
		}
	}
	t.Fatal("20 steps at lr 1e4 without a LossError")
}
