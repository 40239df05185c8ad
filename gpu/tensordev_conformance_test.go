package gpu_test

import (
	"testing"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/gpu/tensordev"
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
