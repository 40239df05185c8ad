package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
)

// toyItems makes count random 16x16 images with two boxes each.
func toyItems(count int, seed uint64) []*batch.Item {
	rng := rand.New(rand.NewPCG(seed, 1))
	items := make([]*batch.Item, count)
	for i := range items {
		px := make([]float32, 3*16*16)
		for j := range px {
			px[j] = float32(rng.NormFloat64())
		}
		items[i] = &batch.Item{ImageID: int64(i), W: 16, H: 16, Pixels: px,
			GTBoxes:  []float32{1, 2, 8, 9, 4, 4, 15, 12},
			GTLabels: []int32{int32(rng.IntN(3)), int32(rng.IntN(3))}, GTCrowd: []bool{false, false}}
	}
	return items
}

func TestTwoReplicasOfOneImageMatchOneReplicaOfTwo(t *testing.T) {
	sched := nn.StepSchedule{BaseLR: 0.05, Gamma: 0.1}
	newT := func(replicas, per int) *Trainer {
		tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: replicas, ImagesPerReplica: per, Schedule: sched,
			Momentum: 0.9, WeightDecay: 1e-4, GradClip: 35, SizeDivisor: 8, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	a, b := newT(2, 1), newT(1, 2)
	for k := 0; k < 6; k++ {
		items := toyItems(2, uint64(k))
		rngs := func() []*rand.Rand {
			return []*rand.Rand{seeded(5, "sample", uint64(k), 0), seeded(5, "sample", uint64(k), 1)}
		}
		ra, err := a.Step(items, rngs(), 0.05)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Step(items, rngs(), 0.05)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ra.Total-rb.Total) > 1e-5 {
			t.Fatalf("step %d: loss %v (2x1) vs %v (1x2)", k, ra.Total, rb.Total)
		}
	}
	pa, pb := nn.NamedParameters(a.Model()), nn.NamedParameters(b.Model())
	for i := range pa {
		da, db := pa[i].Tensor.Data(), pb[i].Tensor.Data()
		for j := range da {
			if d := math.Abs(float64(da[j] - db[j])); d > 1e-5*(1+math.Abs(float64(db[j]))) {
				t.Fatalf("%s[%d]: %v (2 replicas x 1 image) vs %v (1 replica x 2 images)", pa[i].Name, j, da[j], db[j])
			}
		}
	}
	// Replica 1 of the two-replica trainer holds the same weights as replica 0.
	for i, p := range nn.NamedParameters(a.replicas[1].model) {
		if d0, d1 := pa[i].Tensor.Data(), p.Tensor.Data(); d0[0] != d1[0] {
			t.Fatalf("replicas diverged at %s", p.Name)
		}
	}
}

func TestTrainingReducesToyLoss(t *testing.T) {
	tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: 1, ImagesPerReplica: 4,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Momentum: 0.9, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	items := toyItems(4, 99)
	var first, last float64
	for k := 0; k < 60; k++ {
		rngs := make([]*rand.Rand, 4)
		for i := range rngs {
			rngs[i] = seeded(1, "sample", 0, uint64(i)) // same choices each step: a fixed task
		}
		r, err := tr.Step(items, rngs, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			first = r.Total
		}
		last = r.Total
	}
	if last > 0.5*first {
		t.Errorf("loss went from %.4f to %.4f in 60 steps on 4 fixed images; want it at least halved", first, last)
	}
}

func TestNaNLossStopsNamingTheLoss(t *testing.T) {
	tr, err := NewTrainer(toyBuilder(3, 3), Options{Replicas: 1, ImagesPerReplica: 2,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 5; k++ {
		rngs := []*rand.Rand{seeded(1, "s", uint64(k), 0), seeded(1, "s", uint64(k), 1)}
		_, err := tr.Step(toyItems(2, uint64(k)), rngs, 0.1)
		if k < 2 && err != nil {
			t.Fatalf("step %d: %v", k, err)
		}
		if k == 2 {
			le, ok := err.(*LossError)
			if !ok || le.Name != "loss_bbox" {
				t.Fatalf("step %d: error %v, want a LossError naming loss_bbox", k, err)
			}
			return
		}
	}
}

// toyBuilder builds traintest.Toy models.
func toyBuilder(classes, nanAfter int) Builder {
	return func(e *tensor.Engine, rng *rand.Rand) (Model, error) {
		m := traintest.NewToy(e, rng, classes)
		m.NaNAfter = nanAfter
		return m, nil
	}
}

func newCPUEngine() *tensor.Engine { return tensor.NewEngine(tensor.NewCPU(1)) }
