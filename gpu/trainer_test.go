// The trainer test imports the train stage's package, which would make the
// GPU test binary that gpu-check.sh carries grow tenfold: it is built only
// with the emulator tag (make emulate), on the kernel emulator or a GPU.

//go:build emulator

package gpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/gpu/tensordev"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/train"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
)

// TestGPUTrainerTracksCPU trains the trainer's toy detector with two
// replicas on GPU devices (two streams on cuda:0, as --devices cuda:0,0;
// the kernel emulator's with DETFLOW_EMULATE=1) and with two CPU
// replicas: staged uploads, kernels, host fallbacks, peer copies of
// gradients and weights, the batched gradient norm and the SGD kernel
// together must track the CPU run's losses.
func TestGPUTrainerTracksCPU(t *testing.T) {
	open := func() tensor.Device { return tensordev.New(gpu.OpenDeviceForTest(t), "cuda:0") }
	newTrainer := func(devs []tensor.Device) *train.Trainer {
		build := func(e *tensor.Engine, rng *rand.Rand) (train.Model, error) { return traintest.NewToy(e, rng, 3), nil }
		tr, err := train.NewTrainer(build, train.Options{Replicas: 2, ImagesPerReplica: 1,
			Schedule: nn.StepSchedule{BaseLR: 0.05, Gamma: 0.1}, Momentum: 0.9, WeightDecay: 1e-4, GradClip: 35,
			SizeDivisor: 8, Seed: 5, Devices: devs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		return tr
	}
	onGPU := newTrainer([]tensor.Device{open(), open()})
	onCPU := newTrainer(nil)
	t.Logf("GPU replicas exchange gradients by %s", onGPU.Exchange())
	for step := range 3 {
		items := traintest.Items(2, uint64(step))
		var res [2]train.StepResult
		for i, tr := range []*train.Trainer{onGPU, onCPU} {
			rngs := []*rand.Rand{rand.New(rand.NewPCG(uint64(step), 0)), rand.New(rand.NewPCG(uint64(step), 1))}
			r, err := tr.Step(items, rngs, 0.05)
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			res[i] = r
		}
		g, c := res[0], res[1]
		if math.Abs(g.Total-c.Total) > 1e-4*(1+math.Abs(c.Total)) || math.Abs(g.GradNorm-c.GradNorm) > 1e-4*(1+c.GradNorm) {
			t.Fatalf("step %d: loss %v, grad norm %v on the GPU; %v, %v on the CPU", step, g.Total, g.GradNorm, c.Total, c.GradNorm)
		}
	}
}
