package gpu_test

import (
	"math"
	"testing"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/gpu/tensordev"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// TestGPUTensordevConformance runs tensor's conformance suite on
// gpu/tensordev over this test binary's GPU, so that with DETFLOW_EMULATE=1
// the tensor.Device methods are checked against tensor.CPU without a GPU
// (it lives here, not in tensordev, because the emulator is part of gpu's
// tests). It runs twice: with every kernel module, and as a build whose
// PTX lacks the layout, index, softmax and avgpool modules, whose operators must
// then take the host path (counted in Fallbacks) and still agree.
func TestGPUTensordevConformance(t *testing.T) {
	newModules := []string{gpu.ModuleLayout, gpu.ModuleIndex, gpu.ModuleSoftmax, gpu.ModuleAvgPool}
	ported := []string{"BroadcastBinary", "StridedCopy", "ReduceSum", "Softmax", "SoftmaxBackward",
		"IndexSelect", "IndexAdd", "GatherRows", "ScatterAddRows",
		"AvgPool2d", "AvgPool2dBackward", "AdaptiveAvgPool2d", "AdaptiveAvgPool2dBackward"}
	for _, drop := range []bool{false, true} {
		name := "kernels"
		if drop {
			name = "without the new modules"
		}
		t.Run(name, func(t *testing.T) {
			g := gpu.OpenDeviceForTest(t)
			if drop {
				gpu.DropModulesForTest(t, g, newModules...)
			}
			for _, m := range newModules {
				has := g.HasModule(m)
				switch {
				case drop && has:
					t.Fatalf("HasModule(%q) = true after dropping its PTX", m)
				case !drop && !has:
					t.Skipf("no PTX for module %q in this build (the embedded PTX predates it): run make ptx or set DETFLOW_PTX_DIR", m)
				}
			}
			d := tensordev.New(g, "cuda:0")
			tensortest.Run(t, d, tensortest.Tolerance{})
			checkConv2d(t, d)
			checkSumSquaresEach(t, d)
			fb := d.Fallbacks()
			t.Logf("host fallbacks: %v", fb)
			for _, op := range ported {
				if onHost := fb[op] > 0; onHost != drop {
					t.Errorf("%s: %d host calls with the new modules %s", op, fb[op], map[bool]string{false: "present", true: "absent"}[drop])
				}
			}
		})
	}
}

// checkConv2d runs a strided, padded Conv2d forward and backward on d
// (cuDNN where installed, else the Im2col/Col2im kernels with GEMM) and
// on the CPU, after staged uploads of its operands.
func checkConv2d(t *testing.T, d *tensordev.Device) {
	t.Helper()
	opt := tensor.ConvOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}}
	want := tensortest.Conv2dPass(tensor.NewCPU(1), 5, 2, 3, 9, 7, 4, 3, opt)
	got := tensortest.Conv2dPass(d, 5, 2, 3, 9, 7, 4, 3, opt)
	for i, name := range []string{"y", "dx", "dw", "db"} {
		for j := range want[i] {
			if g, w := float64(got[i][j]), float64(want[i][j]); !(math.Abs(g-w) <= 1e-5+1e-5*math.Abs(w)) {
				t.Fatalf("conv2d %s[%d] = %v on the device, %v on the CPU", name, j, g, w)
			}
		}
	}
}

// checkSumSquaresEach: the batched sums of squares equal the one-buffer
// ones, empty buffers included.
func checkSumSquaresEach(t *testing.T, d *tensordev.Device) {
	t.Helper()
	var bufs []tensor.Buffer
	for i, n := range []int{5, 0, 4099, 1} {
		b := d.Alloc(n)
		x := make([]float32, n)
		for j := range x {
			x[j] = float32(j%7) - float32(i)
		}
		d.Upload(b, x)
		bufs = append(bufs, b)
	}
	got := d.SumSquaresEach(bufs)
	for i, b := range bufs {
		if want := d.SumSquares(b); got[i] != want {
			t.Errorf("SumSquaresEach[%d] = %v, SumSquares %v", i, got[i], want)
		}
		d.Free(b)
	}
}
