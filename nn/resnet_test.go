package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// This file builds torchvision's ResNet from nn layers for tests and
// benchmarks only; the detector backbone lives in package detection.

// block is a torchvision BasicBlock or Bottleneck.
type block struct {
	convs      []*Conv2d
	bns        []*BatchNorm2d
	downsample *Sequential // nil when the shortcut is the identity
}

func (b *block) Params() []Named  { return nil }
func (b *block) Buffers() []Named { return nil }
func (b *block) Children() []Child {
	var out []Child
	for i := range b.convs {
		out = append(out, Child{fmt.Sprintf("conv%d", i+1), b.convs[i]}, Child{fmt.Sprintf("bn%d", i+1), b.bns[i]})
	}
	if b.downsample != nil {
		out = append(out, Child{"downsample", b.downsample})
	}
	return out
}

func (b *block) Forward(x *tensor.Tensor) *tensor.Tensor {
	identity := x
	y := x
	for i := range b.convs {
		y = b.bns[i].Forward(b.convs[i].Forward(y))
		if i < len(b.convs)-1 {
			y = tensor.ReluInPlace(y)
		}
	}
	if b.downsample != nil {
		identity = b.downsample.Forward(x)
	}
	// In place, as torchvision's relu(inplace=True) and out += identity: one
	// memory pass and one activation fewer each.
	return tensor.ReluInPlace(tensor.AddInPlace(y, identity))
}

// resnet is torchvision's ResNet layout: conv1, bn1, layer1..4, fc.
type resnet struct {
	conv1  *Conv2d
	bn1    *BatchNorm2d
	layers [4]*Sequential
	fc     *Linear
}

func (r *resnet) Params() []Named  { return nil }
func (r *resnet) Buffers() []Named { return nil }
func (r *resnet) Children() []Child {
	out := []Child{{"conv1", r.conv1}, {"bn1", r.bn1}}
	for i, l := range r.layers {
		out = append(out, Child{fmt.Sprintf("layer%d", i+1), l})
	}
	return append(out, Child{"fc", r.fc})
}

func (r *resnet) Forward(x *tensor.Tensor) *tensor.Tensor {
	x = tensor.ReluInPlace(r.bn1.Forward(r.conv1.Forward(x)))
	x = tensor.MaxPool2d(x, 3, 2, 1)
	for _, l := range r.layers {
		x = l.Forward(x)
	}
	return r.fc.Forward(tensor.AdaptiveAvgPool2d(x, 1, 1))
}

// newResNet builds ResNet-18 (bottleneck false, blocks 2,2,2,2) or ResNet-50
// (bottleneck true, blocks 3,4,6,3) with torchvision's initialisation.
func newResNet(e *tensor.Engine, rng *rand.Rand, bottleneck bool, blocks [4]int) *resnet {
	conv := func(in, out, k, s int) *Conv2d {
		c := NewConv2d(e, Conv2dConfig{In: in, Out: out, Kernel: k, Stride: s, Padding: (k - 1) / 2})
		KaimingNormal(c.Weight, rng, FanOut)
		return c
	}
	r := &resnet{conv1: conv(3, 64, 7, 2), bn1: NewBatchNorm2d(e, 64)}
	expansion := 1
	if bottleneck {
		expansion = 4
	}
	in := 64
	for li, n := range blocks {
		planes := 64 << li
		seq := &Sequential{}
		for bi := 0; bi < n; bi++ {
			stride := 1
			if bi == 0 && li > 0 {
				stride = 2
			}
			b := &block{}
			if bottleneck {
				b.convs = []*Conv2d{conv(in, planes, 1, 1), conv(planes, planes, 3, stride), conv(planes, planes*4, 1, 1)}
			} else {
				b.convs = []*Conv2d{conv(in, planes, 3, stride), conv(planes, planes, 3, 1)}
			}
			for _, c := range b.convs {
				b.bns = append(b.bns, NewBatchNorm2d(e, c.Weight.Dim(0)))
			}
			if stride != 1 || in != planes*expansion {
				b.downsample = NewSequential(conv(in, planes*expansion, 1, stride), NewBatchNorm2d(e, planes*expansion))
			}
			in = planes * expansion
			seq.Layers = append(seq.Layers, b)
		}
		r.layers[li] = seq
	}
	r.fc = NewLinear(e, 512*expansion, 1000, true)
	KaimingUniform(r.fc.Weight, rng, FanIn, math.Sqrt(5)) // nn.Linear's default, a = √5
	bound := 1 / math.Sqrt(float64(512*expansion))
	Uniform(r.fc.Bias, rng, -bound, bound)
	return r
}

func newResNet18(e *tensor.Engine) *resnet {
	return newResNet(e, rand.New(rand.NewPCG(18, 18)), false, [4]int{2, 2, 2, 2})
}

func newResNet50(e *tensor.Engine) *resnet {
	return newResNet(e, rand.New(rand.NewPCG(50, 50)), true, [4]int{3, 4, 6, 3})
}

func TestResNetStateDictMatchesTorchvision(t *testing.T) {
	raw, err := os.ReadFile("testdata/torchvision_resnet_keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][][2]json.RawMessage
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	for name, m := range map[string]*resnet{"resnet18": newResNet18(e), "resnet50": newResNet50(e)} {
		t.Run(name, func(t *testing.T) {
			sd := StateDict(m)
			if len(sd) != len(want[name]) {
				t.Errorf("%d keys, torchvision has %d", len(sd), len(want[name]))
			}
			for _, kv := range want[name] {
				var key string
				var shape []int
				if err := json.Unmarshal(kv[0], &key); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(kv[1], &shape); err != nil {
					t.Fatal(err)
				}
				got, ok := sd[key]
				if !ok {
					t.Errorf("missing %q", key)
					continue
				}
				if len(shape) == 0 {
					shape = []int{1} // num_batches_tracked is 0-d in PyTorch
				}
				if !slices.Equal(got.Shape(), shape) {
					t.Errorf("%q has shape %v, torchvision %v", key, got.Shape(), shape)
				}
			}
		})
	}
}

// TestResNet18TrainStepSmall runs a full train step on a small image to
// catch wiring errors (shapes, gradients reaching every parameter).
func TestResNet18TrainStepSmall(t *testing.T) {
	e := newEngine()
	m := newResNet18(e)
	x := e.Full(0.1, 1, 3, 32, 32)
	tensor.Mean(m.Forward(x)).Backward()
	for _, p := range NamedParameters(m) {
		if p.Tensor.Grad() == nil {
			t.Fatalf("%s got no gradient", p.Name)
		}
	}
}
