package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// toyModel is a small stand-in detector for testing the trainer: it
// classifies a randomly chosen ground-truth box's label from pooled conv
// features and regresses that box, so its losses use the per-image rngs.
type toyModel struct {
	conv    *nn.Conv2d
	cls     *nn.Linear
	box     *nn.Linear
	classes int
	// nanAfter makes Losses return NaN from this call on (0: never).
	nanAfter, calls int
}

func newToy(e *tensor.Engine, rng *rand.Rand, classes int) *toyModel {
	m := &toyModel{
		conv:    nn.NewConv2d(e, nn.Conv2dConfig{In: 3, Out: 4, Kernel: 3, Stride: 2, Padding: 1, Bias: true}),
		cls:     nn.NewLinear(e, 4, classes, true),
		box:     nn.NewLinear(e, 4, 4, true),
		classes: classes,
	}
	for _, p := range nn.NamedParameters(m) {
		nn.Normal(p.Tensor, rng, 0, 0.1)
	}
	return m
}

func (m *toyModel) Params() []nn.Named  { return nil }
func (m *toyModel) Buffers() []nn.Named { return nil }
func (m *toyModel) Children() []nn.Child {
	return []nn.Child{{Name: "conv", Module: m.conv}, {Name: "cls", Module: m.cls}, {Name: "box", Module: m.box}}
}

func (m *toyModel) Losses(b *batch.Batch, rngs []*rand.Rand) (map[string]*tensor.Tensor, error) {
	m.calls++
	e := b.Images.Engine()
	n := len(b.Items)
	feat := tensor.Reshape(tensor.AdaptiveAvgPool2d(tensor.Relu(m.conv.Forward(b.Images)), 1, 1), n, 4)
	labels := make([]int32, n)
	targets := make([]float32, 4*n)
	for i, it := range b.Items {
		if len(it.GTLabels) == 0 {
			return nil, fmt.Errorf("toy: image %d has no boxes", it.ImageID)
		}
		j := rngs[i].IntN(len(it.GTLabels))
		labels[i] = it.GTLabels[j] % int32(m.classes)
		for c := range 4 {
			s := float32(it.W)
			if c%2 == 1 {
				s = float32(it.H)
			}
			targets[4*i+c] = it.GTBoxes[4*j+c] / s
		}
	}
	cls := tensor.CrossEntropyMean(m.cls.Forward(feat), e.NewIndex(labels, n), nil, tensor.IgnoreIndex)
	box := tensor.Mean(tensor.L1Loss(m.box.Forward(feat), e.FromData(targets, n, 4)))
	if m.nanAfter > 0 && m.calls >= m.nanAfter {
		box = tensor.Scale(box, float32(math.NaN()))
	}
	return map[string]*tensor.Tensor{"loss_cls": cls, "loss_bbox": box}, nil
}

func toyBuilder(classes, nanAfter int) Builder {
	return func(e *tensor.Engine, rng *rand.Rand) (Model, error) {
		m := newToy(e, rng, classes)
		m.nanAfter = nanAfter
		return m, nil
	}
}

func newCPUEngine() *tensor.Engine { return tensor.NewEngine(tensor.NewCPU(1)) }
