package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/gpu/tensordev/devtest"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
)

// TestGPUReplicasMatchOneReplica runs the trainer's multi-GPU path on one
// GPU (--devices cuda:0,0: two replicas, two streams, gradients moved by
// peer copies): two replicas of one image must track one replica of two
// images and the CPU trainer.
func TestGPUReplicasMatchOneReplica(t *testing.T) {
	open := func() tensor.Device { return devtest.Open(t, 0) }
	sched := nn.StepSchedule{BaseLR: 0.05, Gamma: 0.1}
	newT := func(replicas, per int, devs []tensor.Device) *Trainer {
		tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: replicas, ImagesPerReplica: per, Schedule: sched,
			Momentum: 0.9, WeightDecay: 1e-4, GradClip: 35, SizeDivisor: 8, Seed: 5, Devices: devs})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	two := newT(2, 1, []tensor.Device{open(), open()})
	one := newT(1, 2, []tensor.Device{open()})
	cpu := newT(2, 1, nil)
	for k := 0; k < 6; k++ {
		items := traintest.Items(2, uint64(k))
		rngs := func() []*rand.Rand {
			return []*rand.Rand{seeded(5, "sample", uint64(k), 0), seeded(5, "sample", uint64(k), 1)}
		}
		var totals [3]float64
		for i, tr := range []*Trainer{two, one, cpu} {
			r, err := tr.Step(items, rngs(), 0.05)
			if err != nil {
				t.Fatal(err)
			}
			totals[i] = r.Total
		}
		for i, name := range []string{"1 replica x 2 images on the GPU", "CPU replicas"} {
			if d := math.Abs(totals[0] - totals[i+1]); d > 1e-4*(1+math.Abs(totals[i+1])) {
				t.Errorf("step %d: loss %v with 2 GPU replicas, %v with %s", k, totals[0], totals[i+1], name)
			}
		}
	}
	p0, p1 := nn.NamedParameters(two.replicas[0].model), nn.NamedParameters(two.replicas[1].model)
	for i := range p0 {
		a, b := p0[i].Tensor.Data(), p1[i].Tensor.Data()
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("GPU replicas diverged at %s[%d]: %v vs %v", p0[i].Name, j, a[j], b[j])
			}
		}
	}
}
