// Package traintest has a small stand-in detector for testing the trainer
// and the orchestrator's handling of the train stage without the cost of a
// real detector.
package traintest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// Toy classifies a randomly chosen ground-truth box's label from pooled
// conv features and regresses that box, so its losses use the per-image
// generators the way a detector's RoI sampling does.
type Toy struct {
	Conv    *nn.Conv2d
	Cls     *nn.Linear
	Box     *nn.Linear
	Classes int
	// NaNAfter makes Losses return a NaN loss_bbox from this call on (0: never).
	NaNAfter int
	// Delay is slept in every Losses call, to widen windows for kill tests.
	Delay time.Duration
	Calls int
}

// NewToy builds a Toy for classes labels, initialised from rng.
func NewToy(e *tensor.Engine, rng *rand.Rand, classes int) *Toy {
	m := &Toy{
		Conv:    nn.NewConv2d(e, nn.Conv2dConfig{In: 3, Out: 4, Kernel: 3, Stride: 2, Padding: 1, Bias: true}),
		Cls:     nn.NewLinear(e, 4, classes, true),
		Box:     nn.NewLinear(e, 4, 4, true),
		Classes: classes,
	}
	for _, p := range nn.NamedParameters(m) {
		nn.Normal(p.Tensor, rng, 0, 0.1)
	}
	return m
}

func (m *Toy) Params() []nn.Named  { return nil }
func (m *Toy) Buffers() []nn.Named { return nil }
func (m *Toy) Children() []nn.Child {
	return []nn.Child{{Name: "conv", Module: m.Conv}, {Name: "cls", Module: m.Cls}, {Name: "box", Module: m.Box}}
}

// Losses returns loss_cls and loss_bbox, each a mean over b's images.
func (m *Toy) Losses(b *batch.Batch, rngs []*rand.Rand) (map[string]*tensor.Tensor, error) {
	m.Calls++
	time.Sleep(m.Delay)
	e := b.Images.Engine()
	n := len(b.Items)
	feat := tensor.Reshape(tensor.AdaptiveAvgPool2d(tensor.Relu(m.Conv.Forward(b.Images)), 1, 1), n, 4)
	labels := make([]int32, n)
	targets := make([]float32, 4*n)
	for i, it := range b.Items {
		if len(it.GTLabels) == 0 {
			return nil, fmt.Errorf("toy: image %d has no boxes", it.ImageID)
		}
		j := rngs[i].IntN(len(it.GTLabels))
		labels[i] = it.GTLabels[j] % int32(m.Classes)
		for c := range 4 {
			s := float32(it.W)
			if c%2 == 1 {
				s = float32(it.H)
			}
			targets[4*i+c] = it.GTBoxes[4*j+c] / s
		}
	}
	cls := tensor.CrossEntropyMean(m.Cls.Forward(feat), e.NewIndex(labels, n), nil, tensor.IgnoreIndex)
	box := tensor.Mean(tensor.L1Loss(m.Box.Forward(feat), e.FromData(targets, n, 4)))
	if m.NaNAfter > 0 && m.Calls >= m.NaNAfter {
		box = tensor.Scale(box, float32(math.NaN()))
	}
	return map[string]*tensor.Tensor{"loss_cls": cls, "loss_bbox": box}, nil
}

// Items makes count seeded 16x16 images, each with two boxes whose labels
// are drawn from 0..2, for Toy models with 3 classes.
func Items(count int, seed uint64) []*batch.Item {
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
