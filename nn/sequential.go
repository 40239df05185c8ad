package nn

import (
	"strconv"

	"github.com/detflow/detflow/tensor"
)

// Sequential runs layers in order; children are named "0", "1", ... as in
// PyTorch's nn.Sequential.
type Sequential struct {
	Layers []Layer
}

// NewSequential returns a Sequential of layers.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Forward implements Layer.
func (s *Sequential) Forward(x *tensor.Tensor) *tensor.Tensor {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

// Params implements Module.
func (s *Sequential) Params() []Named { return nil }

// Buffers implements Module.
func (s *Sequential) Buffers() []Named { return nil }

// Children implements Module.
func (s *Sequential) Children() []Child {
	out := make([]Child, len(s.Layers))
	for i, l := range s.Layers {
		out[i] = Child{strconv.Itoa(i), l}
	}
	return out
}

// stateless is embedded by layers without parameters.
type stateless struct{}

func (stateless) Params() []Named   { return nil }
func (stateless) Buffers() []Named  { return nil }
func (stateless) Children() []Child { return nil }

// ReLU is the rectifier as a layer.
type ReLU struct{ stateless }

// Forward implements Layer.
func (ReLU) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Relu(x) }

// MaxPool2d is a square max-pool layer.
type MaxPool2d struct {
	stateless
	Kernel, Stride, Padding int
}

// Forward implements Layer.
func (m MaxPool2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.MaxPool2d(x, m.Kernel, m.Stride, m.Padding)
}
