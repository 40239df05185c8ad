package evaluate

import (
	"strings"
	"testing"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/tensor"
)

func TestInferDevice(t *testing.T) {
	for _, tc := range []struct {
		d    stages.Devices
		want string
	}{
		{stages.Devices{Kind: "cpu", Replica: 2}, ""},
		{stages.Devices{Kind: "cuda", CUDA: []int{3, 1}}, "cuda:3"},
	} {
		if got := inferDevice(tc.d); got != tc.want {
			t.Errorf("inferDevice(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestOpenEngine(t *testing.T) {
	e, closeDev, err := openEngine("")
	if err != nil || closeDev() != nil {
		t.Fatalf("CPU engine: %v", err)
	}
	if _, ok := e.Device().(*tensor.CPU); !ok {
		t.Errorf("device %T, want the CPU", e.Device())
	}
	if _, _, err := openEngine("tpu:0"); err == nil || !strings.Contains(err.Error(), "want cuda:N") {
		t.Errorf("bad device: err = %v", err)
	}
	if _, err := gpu.LoadDriver(); err == nil {
		t.Skip("an NVIDIA driver is present: the no-driver message is not reachable")
	}
	if _, _, err := openEngine("cuda:0"); err == nil || err.Error() != "--devices cuda:0: no NVIDIA driver found (libcuda.so.1)" {
		t.Errorf("without a driver: err = %v", err)
	}
}
