package tensor_test

import (
	"math"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// hostOnly hides the CPU's Rounder, so autocast rounds through host memory
// as on a device without a rounding kernel.
type hostOnly struct{ tensor.Device }

// lowOps are the operations of autocast's lower-precision list, each on a
// single element holding x with a weight w (1x1 kernels, 1-vectors).
var lowOps = map[string]func(e *tensor.Engine, x, w *tensor.Tensor) *tensor.Tensor{
	"conv2d": func(e *tensor.Engine, x, w *tensor.Tensor) *tensor.Tensor {
		return tensor.Conv2d(tensor.Reshape(x, 1, 1, 1, 1), tensor.Reshape(w, 1, 1, 1, 1), nil, tensor.ConvOptions{})
	},
	"conv_transpose2d": func(e *tensor.Engine, x, w *tensor.Tensor) *tensor.Tensor {
		return tensor.ConvTranspose2d(tensor.Reshape(x, 1, 1, 1, 1), tensor.Reshape(w, 1, 1, 1, 1), nil, tensor.ConvTransposeOptions{})
	},
	"linear": func(e *tensor.Engine, x, w *tensor.Tensor) *tensor.Tensor { return tensor.Linear(x, w, nil) },
	"matmul": func(e *tensor.Engine, x, w *tensor.Tensor) *tensor.Tensor { return tensor.MatMul(x, w) },
}

// autocastOne runs op on x·w under autocast a and backpropagates dy; it
// returns the output and the gradients of x and w.
func autocastOne(t *testing.T, dev tensor.Device, a tensor.Autocast, op string, x, w, dy float32) (y, dx, dw float32) {
	t.Helper()
	e := tensor.NewEngine(dev)
	e.SetAutocast(a)
	xt := e.FromData([]float32{x}, 1, 1).SetRequiresGrad(true)
	wt := e.FromData([]float32{w}, 1, 1).SetRequiresGrad(true)
	out := lowOps[op](e, xt, wt)
	out.BackwardWith(e.FromData([]float32{dy}, out.Shape()...))
	return out.Item(), xt.Grad().Item(), wt.Grad().Item()
}

// TestAutocastRoundsInputsOutputsAndGradients: (1+2^-10)² = 1+2^-9+2^-20
// is exact in FP32 and rounds to 1+2^-9 in fp16 and to 1 in bf16 (7-bit
// mantissa; 1+2^-10 itself rounds to 1 there); a gradient of 1e-8
// underflows to zero in fp16 but not in bf16, and one of 1e5 overflows to
// infinity in fp16 only.
func TestAutocastRoundsInputsOutputsAndGradients(t *testing.T) {
	const v = 1 + 0x1p-10
	for op := range lowOps {
		for _, dev := range []tensor.Device{tensor.NewCPU(1), hostOnly{tensor.NewCPU(1)}} {
			if y, _, _ := autocastOne(t, dev, tensor.AutocastOff, op, v, v, 1); y != v*v {
				t.Errorf("%s FP32: y = %v, want %v", op, y, v*v)
			}
			if y, _, _ := autocastOne(t, dev, tensor.AutocastFP16, op, v, v, 1); y != 1+0x1p-9 {
				t.Errorf("%s fp16: y = %v, want %v", op, y, 1+0x1p-9)
			}
			if y, _, _ := autocastOne(t, dev, tensor.AutocastBF16, op, v, v, 1); y != 1 {
				t.Errorf("%s bf16: y = %v, want 1", op, y)
			}
			if _, dx, dw := autocastOne(t, dev, tensor.AutocastFP16, op, 1, 1, 1e-8); dx != 0 || dw != 0 {
				t.Errorf("%s fp16: gradients of 1e-8 = %v, %v, want 0 (underflow)", op, dx, dw)
			}
			if _, dx, _ := autocastOne(t, dev, tensor.AutocastBF16, op, 1, 1, 1e-8); math.Abs(float64(dx)-1e-8) > 1e-10 {
				t.Errorf("%s bf16: gradient of 1e-8 = %v", op, dx)
			}
			if _, dx, dw := autocastOne(t, dev, tensor.AutocastFP16, op, 1, 1, 1e5); !math.IsInf(float64(dx), 1) || !math.IsInf(float64(dw), 1) {
				t.Errorf("%s fp16: gradients of 1e5 = %v, %v, want +Inf (overflow)", op, dx, dw)
			}
			if _, dx, _ := autocastOne(t, dev, tensor.AutocastOff, op, 1, 1, 1e5); dx != 1e5 {
				t.Errorf("%s FP32: gradient of 1e5 = %v", op, dx)
			}
		}
	}
}

// TestAutocastLeavesOtherOpsInFP32: an addition keeps the bits FP16 would
// lose.
func TestAutocastLeavesOtherOpsInFP32(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	e.SetAutocast(tensor.AutocastFP16)
	x := e.FromData([]float32{1}, 1)
	if y := tensor.Add(x, e.FromData([]float32{0x1p-20}, 1)).Item(); y != 1+0x1p-20 {
		t.Errorf("add under fp16 autocast = %v, want %v", y, 1+0x1p-20)
	}
}
