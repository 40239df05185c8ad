package tensor_test

import (
	"math"
	"testing"

	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// storedColsCPU is the CPU device with only the Device interface's
// methods: convolutions write their column matrices out (Im2col, then
// Gemm) instead of packing them from the image.
type storedColsCPU struct{ tensor.Device }

// TestConvPacksColumnsFromTheImage: the CPU's convolutions, which pack the
// im2col operand straight from the image, give the output and the weight
// and bias gradients bit for bit as Im2col then Gemm, for paddings, strides,
// dilation, a 7x7 stem-like conv, odd sizes that leave partial tiles and
// panels, batches small enough for whole-batch GEMMs, one worker and two,
// and transposed convolutions. The input gradient (the transposed
// convolution's output) never builds the whole column matrix, scattering
// dcol a tile of columns (or a few images) at a time, and still matches
// the stored-columns path (Gemm then Col2im) bit for bit.
func TestConvPacksColumnsFromTheImage(t *testing.T) {
	cases := []struct {
		name              string
		n, c, h, w, co, k int
		opt               tensor.ConvOptions
	}{
		{"3x3 pad 1", 2, 3, 19, 17, 4, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
		{"stride 2", 2, 5, 31, 29, 7, 3, tensor.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
		{"stride 2 1x1", 1, 16, 33, 30, 9, 1, tensor.ConvOptions{Stride: [2]int{2, 2}}},
		{"7x7 stride 2 pad 3", 1, 3, 70, 90, 16, 7, tensor.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{3, 3}}},
		{"dilated", 1, 4, 24, 26, 5, 3, tensor.ConvOptions{Padding: [2]int{2, 2}, Dilation: [2]int{2, 2}}},
		{"no padding, rows of 3", 1, 40, 12, 5, 33, 3, tensor.ConvOptions{}},
		{"several panels", 1, 64, 70, 75, 40, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
		// Stride 1 reads the padded input in place, in bands of about 2M
		// values of slab and output: here 259 output rows, then 41.
		{"several bands of rows", 1, 64, 300, 75, 40, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
		{"padding wider than the kernel", 2, 3, 16, 17, 4, 3, tensor.ConvOptions{Padding: [2]int{3, 2}}},
		{"stride 1x2, 5x5 dilated", 1, 3, 30, 41, 5, 5, tensor.ConvOptions{Stride: [2]int{1, 2}, Padding: [2]int{4, 1}, Dilation: [2]int{2, 1}}},
		{"stride 2, several dcol tiles", 1, 64, 90, 91, 8, 3, tensor.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
		{"batched 3x3", 3, 6, 9, 10, 5, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
		{"batched dilated", 2, 4, 11, 9, 3, 3, tensor.ConvOptions{Padding: [2]int{2, 2}, Dilation: [2]int{2, 2}}},
		{"batched stride 2", 2, 5, 13, 14, 6, 3, tensor.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
		{"batched 1x1", 2, 7, 8, 9, 4, 1, tensor.ConvOptions{}},
		{"batched 1x1 stride 2", 2, 7, 8, 9, 4, 1, tensor.ConvOptions{Stride: [2]int{2, 2}}},
		// 98 columns: gemm computes the input gradient's dcol as dcolᵀ.
		{"batched 7x7 images, narrow", 2, 16, 7, 7, 64, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
		{"batched 1x1 7x7 images, narrow", 2, 64, 7, 7, 64, 1, tensor.ConvOptions{}},
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 2} {
			want := tensortest.Conv2dPass(storedColsCPU{tensor.NewCPU(workers)}, 5, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.opt)
			got := tensortest.Conv2dPass(tensor.NewCPU(workers), 5, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.opt)
			sameBits(t, tc.name+" conv", workers, got, want)
			topt := tensor.ConvTransposeOptions{ConvOptions: tc.opt}
			want = tensortest.ConvTranspose2dPass(storedColsCPU{tensor.NewCPU(workers)}, 6, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, topt)
			got = tensortest.ConvTranspose2dPass(tensor.NewCPU(workers), 6, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, topt)
			sameBits(t, tc.name+" transposed", workers, got, want)
		}
	}
}

// sameBits checks got against want bit for bit.
func sameBits(t *testing.T, name string, workers int, got, want [4][]float32) {
	t.Helper()
	for i, out := range []string{"y", "dx", "dw", "db"} {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s, %d workers: len(%s) = %d, want %d", name, workers, out, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
				t.Fatalf("%s, %d workers: %s[%d] = %v, stored columns give %v", name, workers, out, j, got[i][j], want[i][j])
			}
		}
	}
}
