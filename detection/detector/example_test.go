package detector_test

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// A training step and an inference pass of the default tiny Fast R-CNN on a
// blank 64x64 image with one object and two proposals.
func ExampleBuild() {
	cfg, err := configs.Load(configs.Default, nil)
	if err != nil {
		panic(err)
	}
	e := tensor.NewEngine(tensor.NewCPU(0))
	d, err := detector.Build(e, cfg, rand.New(rand.NewPCG(uint64(cfg.Train.Seed), 0)))
	if err != nil {
		panic(err)
	}
	item := &batch.Item{
		OrigW: 128, OrigH: 128, W: 64, H: 64, ScaleX: 0.5, ScaleY: 0.5,
		Pixels:    make([]float32, 3*64*64),
		GTBoxes:   []float32{10, 10, 40, 30},
		GTLabels:  []int32{2},
		GTCrowd:   []bool{false},
		Proposals: []float32{8, 12, 38, 30, 0, 0, 20, 20},
	}
	b := batch.Collate(e, []*batch.Item{item}, cfg.Data.SizeDivisor)

	opt := nn.NewSGD(nn.TrainableParameters(d), 0.01, 0.9, 1e-4)
	mark := e.Mark()
	losses, err := d.Losses(b, []*rand.Rand{rand.New(rand.NewPCG(0, 0))})
	if err != nil {
		panic(err)
	}
	detector.TotalLoss(losses).Backward()
	opt.Step()
	e.Release(mark)

	names := make([]string, 0, len(losses))
	for k := range losses {
		names = append(names, k)
	}
	slices.Sort(names)
	fmt.Println(names)

	dets, err := d.Predict(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(dets), "image")
	// Output:
	// [loss_bbox loss_cls]
	// 1 image
}
