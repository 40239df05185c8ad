package tensordev

import (
	"errors"
	"math"
	"testing"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// TestGPUConvMatchesCPU runs Conv2d on the GPU (cuDNN when installed,
// else im2col and cuBLAS) and on the CPU for the shapes of a ResNet-FPN
// detector, and compares outputs and gradients relative to their RMS.
func TestGPUConvMatchesCPU(t *testing.T) {
	d := device(t)
	dn, err := d.g.DNN()
	var le *gpu.LibraryError
	switch {
	case err == nil:
		t.Logf("convolutions by %s (%s)", dn, dn.Path())
	case errors.As(err, &le) || errors.Is(err, gpu.ErrDNNOff):
		t.Logf("no cuDNN (%v): checking the composed path", err)
	default:
		t.Fatal(err)
	}
	cases := []struct {
		name              string
		n, c, h, w, co, k int
		opt               tensor.ConvOptions
	}{
		{"stem 7x7/2", 2, 3, 64, 48, 16, 7, tensor.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{3, 3}}},
		{"3x3 pad 1", 2, 32, 20, 24, 32, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
		{"3x3/2", 2, 16, 21, 17, 24, 3, tensor.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
		{"1x1", 2, 64, 13, 11, 32, 1, tensor.ConvOptions{}},
		{"1x1/2", 2, 32, 14, 14, 64, 1, tensor.ConvOptions{Stride: [2]int{2, 2}}},
		{"dilated 3x3", 1, 8, 15, 15, 8, 3, tensor.ConvOptions{Padding: [2]int{2, 2}, Dilation: [2]int{2, 2}}},
	}
	before := d.ConvComposed()
	for _, tc := range cases {
		want := tensortest.Conv2dPass(tensor.NewCPU(0), 11, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.opt)
		got := tensortest.Conv2dPass(d, 11, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.opt)
		compareConvPass(t, tc.name, got, want)
	}
	if err == nil && d.ConvComposed() != before {
		t.Errorf("%d convolutions composed although cuDNN is loaded", d.ConvComposed()-before)
	}
}

// compareConvPass compares a device's conv pass (y, dx, dw, db) with the
// CPU's, each error relative to the reference's RMS.
func compareConvPass(t *testing.T, name string, got, want [4][]float32) {
	t.Helper()
	for i, part := range []string{"y", "dx", "dw", "db"} {
		var rms float64
		for _, v := range want[i] {
			rms += float64(v) * float64(v)
		}
		rms = math.Sqrt(rms / float64(len(want[i])))
		worst, at := 0.0, 0
		for j := range want[i] {
			if e := math.Abs(float64(got[i][j]) - float64(want[i][j])); e > worst || math.IsNaN(e) {
				worst, at = e, j
			}
		}
		if !(worst <= 2e-5*rms+1e-6) {
			t.Errorf("%s %s: worst error %.3g at %d (gpu %v, cpu %v), RMS %.3g", name, part, worst, at, got[i][at], want[i][at], rms)
		}
	}
}

// TestGPUConvTransposeMatchesCPU runs ConvTranspose2d (the adjoint
// convolution's three passes, on cuDNN when installed) on the GPU and on
// the CPU at FCNMaskHead's shape and a padded, strided one.
func TestGPUConvTransposeMatchesCPU(t *testing.T) {
	d := device(t)
	s2 := [2]int{2, 2}
	cases := []struct {
		name              string
		n, c, h, w, co, k int
		opt               tensor.ConvTransposeOptions
	}{
		{"mask head 2x2/2", 24, 32, 14, 14, 32, 2, tensor.ConvTransposeOptions{ConvOptions: tensor.ConvOptions{Stride: s2}}},
		{"3x3/2 pad 1 out pad 1", 2, 8, 9, 7, 6, 3, tensor.ConvTransposeOptions{ConvOptions: tensor.ConvOptions{Stride: s2, Padding: [2]int{1, 1}}, OutputPadding: [2]int{1, 1}}},
	}
	for _, tc := range cases {
		want := tensortest.ConvTranspose2dPass(tensor.NewCPU(0), 13, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.opt)
		got := tensortest.ConvTranspose2dPass(d, 13, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.opt)
		compareConvPass(t, tc.name, got, want)
	}
}
