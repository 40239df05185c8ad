package nn

import (
	"math"
	"math/rand/v2"

	"github.com/detflow/detflow/tensor"
)

// FanMode picks which fan Kaiming initialisation preserves.
type FanMode int

const (
	FanIn  FanMode = iota // preserve forward activations' variance
	FanOut                // preserve backward gradients' variance (torchvision ResNet)
)

// Fans returns PyTorch's fan_in and fan_out of a weight shape: dimension 1
// and 0 times the receptive field (the product of the rest).
func Fans(shape []int) (fanIn, fanOut int) {
	if len(shape) < 2 {
		tensor.Panicf("nn: fans of shape %v need at least 2 dimensions", shape)
	}
	rf := numel(shape[2:])
	return shape[1] * rf, shape[0] * rf
}

func fan(shape []int, mode FanMode) int {
	in, out := Fans(shape)
	if mode == FanOut {
		return out
	}
	return in
}

// reluGain is √2, the Kaiming gain for ReLU.
const reluGain = math.Sqrt2

// KaimingNormal fills t from N(0, std²) with std = gain/√fan, gain √2 for
// ReLU (PyTorch's kaiming_normal_(nonlinearity="relu")).
func KaimingNormal(t *tensor.Tensor, rng *rand.Rand, mode FanMode) {
	Normal(t, rng, 0, reluGain/math.Sqrt(float64(fan(t.Shape(), mode))))
}

// KaimingUniform fills t from U(−b, b) with b = gain·√(3/fan) and gain
// √(2/(1+a²)) for leaky-ReLU slope a (PyTorch's kaiming_uniform_; nn.Conv2d's
// default init is a = √5, mode fan_in).
func KaimingUniform(t *tensor.Tensor, rng *rand.Rand, mode FanMode, a float64) {
	gain := math.Sqrt(2 / (1 + a*a))
	b := gain * math.Sqrt(3/float64(fan(t.Shape(), mode)))
	Uniform(t, rng, -b, b)
}

// XavierUniform fills t from U(−b, b), b = gain·√(6/(fan_in+fan_out)).
func XavierUniform(t *tensor.Tensor, rng *rand.Rand, gain float64) {
	in, out := Fans(t.Shape())
	b := gain * math.Sqrt(6/float64(in+out))
	Uniform(t, rng, -b, b)
}

// XavierNormal fills t from N(0, std²), std = gain·√(2/(fan_in+fan_out)).
func XavierNormal(t *tensor.Tensor, rng *rand.Rand, gain float64) {
	in, out := Fans(t.Shape())
	Normal(t, rng, 0, gain*math.Sqrt(2/float64(in+out)))
}

// Normal fills t from N(mean, std²).
func Normal(t *tensor.Tensor, rng *rand.Rand, mean, std float64) {
	d := make([]float32, t.Len())
	for i := range d {
		d[i] = float32(mean + std*rng.NormFloat64())
	}
	t.CopyFrom(d)
}

// Uniform fills t from U(lo, hi).
func Uniform(t *tensor.Tensor, rng *rand.Rand, lo, hi float64) {
	d := make([]float32, t.Len())
	for i := range d {
		d[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	t.CopyFrom(d)
}

// Constant fills t with v.
func Constant(t *tensor.Tensor, v float32) {
	d := make([]float32, t.Len())
	for i := range d {
		d[i] = v
	}
	t.CopyFrom(d)
}
