package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// A training loop: fit y = 2x with a linear layer, SGD with momentum and an
// MMDetection-style warmup schedule.
func ExampleSGD() {
	e := tensor.NewEngine(tensor.NewCPU(1))
	model := nn.NewLinear(e, 1, 1, true)
	nn.Normal(model.Weight, rand.New(rand.NewPCG(1, 2)), 0, 0.1)
	params := nn.TrainableParameters(model)
	opt := nn.NewSGD(params, 0, 0.9, 0)
	sched := nn.StepSchedule{BaseLR: 0.05, Gamma: 0.1, Steps: []int{1}, Warmup: nn.WarmupLinear, WarmupIters: 10, WarmupRatio: 0.1}
	xs := []float32{-1, -0.5, 0, 0.5, 1}
	ys := []float32{-2, -1, 0, 1, 2}
	var loss float32
	for iter := 0; iter < 200; iter++ {
		mark := e.Mark()
		opt.LR = float32(sched.LR(0, iter))
		nn.ZeroGrad(model)
		pred := model.Forward(e.FromData(xs, 5, 1))
		l := tensor.Mean(tensor.Square(tensor.Sub(pred, e.FromData(ys, 5, 1))))
		l.Backward()
		nn.ClipGradNorm(params, 10)
		opt.Step()
		loss = l.Item()
		e.Release(mark)
	}
	fmt.Printf("weight %.3f, loss < 1e-4: %v\n", model.Weight.Item(), loss < 1e-4)
	// Output: weight 2.000, loss < 1e-4: true
}
