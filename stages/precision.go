package stages

import (
	"fmt"
	"strings"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/tensor"
)

// Precision is how the train and evaluate stages compute, from
// train.precision (defaults.yaml describes the values).
type Precision struct {
	Name     string          // train.precision
	Autocast tensor.Autocast // format of convolutions and matrix products
	// ConvTF32 lets GPU convolutions use TF32 tensor cores: tf32, and the
	// mixed precisions too, whose rounded fp16 and bf16 operands TF32
	// holds exactly.
	ConvTF32 bool
}

// ParsePrecision maps a train.precision value, naming the key and the
// values allowed when it is none of them.
func ParsePrecision(name string) (Precision, error) {
	switch name {
	case configs.PrecisionFP32:
		return Precision{Name: name}, nil
	case configs.PrecisionTF32:
		return Precision{Name: name, ConvTF32: true}, nil
	case configs.PrecisionFP16:
		return Precision{Name: name, Autocast: tensor.AutocastFP16, ConvTF32: true}, nil
	case configs.PrecisionBF16:
		return Precision{Name: name, Autocast: tensor.AutocastBF16, ConvTF32: true}, nil
	}
	return Precision{}, fmt.Errorf("train.precision %q: want one of %s", name, strings.Join(configs.Precisions, ", "))
}

// convMath is implemented by devices whose convolution library has a math
// type to choose (gpu/tensordev).
type convMath interface{ SetConvTF32(on bool) error }

// Apply sets e's autocast and its device's convolution math (SetDevice).
func (p Precision) Apply(e *tensor.Engine) error {
	e.SetAutocast(p.Autocast)
	return p.SetDevice(e.Device())
}

// SetDevice sets, on a device with a convolution library, whether its
// convolutions may use TF32; other devices need nothing.
func (p Precision) SetDevice(dev tensor.Device) error {
	if d, ok := dev.(convMath); ok {
		if err := d.SetConvTF32(p.ConvTF32); err != nil {
			return fmt.Errorf("train.precision %s: set the convolution math type on %s: %w", p.Name, dev.Name(), err)
		}
	}
	return nil
}

// Describe says what the precision means on a device ("cpu", "cuda:0"),
// for the log: on a CPU, tf32 computes as fp32 and fp16 and bf16 are
// emulated by rounding.
func (p Precision) Describe(device string) string {
	cpu := !strings.HasPrefix(device, "cuda")
	switch {
	case p.Name == configs.PrecisionTF32 && cpu:
		return "FP32 (tf32 computes as fp32 on CPU: no TF32 tensor cores)"
	case p.Name == configs.PrecisionTF32:
		return "TF32 tensor cores in cuDNN convolutions, FP32 matmuls and the rest (PyTorch's default)"
	case p.Autocast != tensor.AutocastOff && cpu:
		return fmt.Sprintf("mixed %s, emulated on CPU: convolutions and linears round operands, outputs and gradients to %s, FP32 accumulation, master weights and the rest", p.Name, p.Name)
	case p.Autocast != tensor.AutocastOff:
		return fmt.Sprintf("mixed %s, emulated: %s-rounded operands on TF32 tensor cores, FP32 accumulation, master weights and the rest", p.Name, p.Name)
	}
	return "FP32"
}
