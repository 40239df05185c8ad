package gpu

import (
	"fmt"
	"testing"
)

// benchLayout times b.N launches of one layout operation over the stride-4
// FPN level of 2 images at 1333x800 ([2,256,200,336]) and reports the
// bandwidth of the bytes it reads and writes.
func benchLayout(b *testing.B, label string, bytes float64, op func() error) {
	b.Helper()
	d := gpuDevice(b)
	if emulating() {
		b.Skip("the FPN-sized layout benchmarks are too large for the kernel emulator")
	}
	if err := op(); err != nil { // load the module, warm the clocks
		b.Fatal(err)
	}
	b.ResetTimer()
	ms, err := d.Time(func() error {
		for range b.N {
			if err := op(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	per := float64(ms) / float64(b.N)
	gbs := bytes / (per / 1e3) / 1e9
	b.ReportMetric(per, "ms/op")
	b.ReportMetric(gbs, "GB/s")
	fmt.Printf("BENCH detflow %s [2,256,200,336]: %.3f ms, %.0f GB/s\n", label, per, gbs)
}

// BenchmarkGPUPermuteNCHWToNHWC is a strided copy that merges to 3
// dimensions: the layout kernel's index arithmetic at full size.
func BenchmarkGPUPermuteNCHWToNHWC(b *testing.B) {
	d := gpuDevice(b)
	const n, c, h, w = 2, 256, 200, 336
	src, dst := alloc(b, d, n*c*h*w), alloc(b, d, n*c*h*w)
	shape := []int{n, h, w, c}
	benchLayout(b, "permute_nchw_nhwc", 8*n*c*h*w, func() error {
		return d.StridedCopy(shape, dst, contiguous(shape), src, []int{c * h * w, w, 1, h * w}, false)
	})
}

// BenchmarkGPUBroadcastAddBias adds a per-channel bias [1,256,1,1] to the
// feature map: a broadcast binary with a stride-0 operand.
func BenchmarkGPUBroadcastAddBias(b *testing.B) {
	d := gpuDevice(b)
	const n, c, h, w = 2, 256, 200, 336
	x, bias, y := alloc(b, d, n*c*h*w), alloc(b, d, c), alloc(b, d, n*c*h*w)
	shape := []int{n, c, h, w}
	benchLayout(b, "broadcast_add_bias", 8*n*c*h*w, func() error {
		return d.BroadcastBinary(BinaryAdd, shape, y, x, contiguous(shape), bias, []int{0, 1, 0, 0})
	})
}

// BenchmarkGPUReduceSumBiasGrad sums the gradient over N, H and W per
// channel as a conv bias gradient does: [2, 256*200*336] over its first
// axis, then [256, 200*336] over its last.
func BenchmarkGPUReduceSumBiasGrad(b *testing.B) {
	d := gpuDevice(b)
	const n, c, h, w = 2, 256, 200, 336
	x, part, y := alloc(b, d, n*c*h*w), alloc(b, d, c*h*w), alloc(b, d, c)
	benchLayout(b, "reduce_bias_grad", 4*(n*c*h*w+2*c*h*w), func() error {
		if err := d.ReduceSum(part, x, 1, n, c*h*w); err != nil {
			return err
		}
		return d.ReduceSum(y, part, c, h*w, 1)
	})
}
