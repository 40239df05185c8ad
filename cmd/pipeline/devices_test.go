package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/detflow/detflow/gpu"
)

func TestWriteInventory(t *testing.T) {
	inv := gpu.Inventory{
		Driver: gpu.LibraryStatus{Name: "CUDA driver", Path: "/usr/lib/libcuda.so.1", Version: "CUDA 13.0"},
		Devices: []gpu.DeviceInfo{{Ordinal: 0, Name: "NVIDIA H100 80GB HBM3", TotalMem: 85 << 30, ComputeMajor: 9, SMs: 132},
			{Ordinal: 1, Name: "NVIDIA H100 80GB HBM3", TotalMem: 85 << 30, ComputeMajor: 9, SMs: 132}},
		Libraries: []gpu.LibraryStatus{
			{Name: "cuBLAS", Path: "/cuda/libcublas.so.13", Version: "13.0.2"},
			{Name: "cuDNN", Env: "DETFLOW_LIBCUDNN", Err: errors.New("load cuDNN: not found")},
			{Name: "NCCL", Path: "/nccl/libnccl.so.2", Version: "2.27.3"},
		},
		PTXSource:  "embedded",
		MissingPTX: []string{"softmax", "avgpool"},
	}
	var b strings.Builder
	if err := writeInventory(&b, inv); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"CUDA driver  CUDA 13.0  /usr/lib/libcuda.so.1\n",
		"  cuda:1      NVIDIA H100 80GB HBM3, 85.0 GiB, compute 9.0, 132 SMs\n",
		"cuBLAS       13.0.2  /cuda/libcublas.so.13\n",
		"cuDNN        not used: load cuDNN: not found\n",
		"convolutions use detflow's im2col kernels with cuBLAS (DETFLOW_LIBCUDNN=FILE names an installed copy)\n",
		"NCCL         2.27.3  /nccl/libnccl.so.2\n",
		"kernels      PTX embedded; no PTX for softmax, avgpool: their operators run on the host",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDevicesWithoutDriver: on a machine without NVIDIA's driver (CI), the
// command still succeeds and says what --devices can use.
func TestDevicesWithoutDriver(t *testing.T) {
	if _, err := gpu.LoadDriver(); err == nil {
		t.Skip("this machine has an NVIDIA driver")
	}
	code, out, errOut := pipeline(t, "devices")
	if code != 0 || !strings.Contains(out, "no NVIDIA driver found (libcuda.so.1)") || !strings.Contains(out, "--devices cpu") {
		t.Errorf("devices: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := pipeline(t, "devices", "extra"); code != 2 {
		t.Errorf("devices extra: code %d, want a usage error (2)", code)
	}
}
