package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// GPU benchmarks; scripts/gpu_torch_ref.py times the same sizes in PyTorch
// in the same run. Each prints one "BENCH" line that the check script
// collects. Timing is by CUDA events around b.N launches on the stream.

func benchSgemm(b *testing.B, mode MathMode, label string) {
	d := gpuDevice(b)
	gpuBLAS(b, d)
	if err := d.SetMathMode(mode); err != nil {
		b.Fatal(err)
	}
	defer d.SetMathMode(MathDefault)
	const n = 4096
	pa, pb, pc := upload(b, d, randn(60, n*n)), upload(b, d, randn(61, n*n)), alloc(b, d, n*n)
	// Warm up cuBLAS's heuristics and the clocks.
	for range 3 {
		if err := d.Sgemm(false, false, n, n, n, 1, pa, n, pb, n, 0, pc, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	ms, err := d.Time(func() error {
		for range b.N {
			if err := d.Sgemm(false, false, n, n, n, 1, pa, n, pb, n, 0, pc, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	per := float64(ms) / 1e3 / float64(b.N)
	tflops := 2 * float64(n) * n * n / per / 1e12
	b.ReportMetric(tflops, "TFLOP/s")
	b.ReportMetric(per*1e3, "ms/op")
	fmt.Printf("BENCH detflow sgemm_%s n=%d: %.3f ms, %.2f TFLOP/s\n", label, n, per*1e3, tflops)
}

// BenchmarkGPUSgemm is cuBLAS SGEMM 4096³ in true FP32.
func BenchmarkGPUSgemm(b *testing.B) { benchSgemm(b, MathDefault, "fp32") }

// BenchmarkGPUSgemmTF32 is the same with TF32 tensor cores allowed.
func BenchmarkGPUSgemmTF32(b *testing.B) { benchSgemm(b, MathTF32, "tf32") }

// benchRoIs is the Fast R-CNN training shape at 1333x800, 2 images: the
// stride-4 FPN level (256×200×336) and 512 sampled RoIs per image. The
// box distribution matches scripts/gpu_torch_ref.py.
func benchRoIs() (RoIAlignGeom, []float32) {
	g := RoIAlignGeom{K: 1024, C: 256, H: 200, W: 336, PH: 7, PW: 7, SpatialScale: 0.25, SamplingRatio: 0, Aligned: true}
	r := rand.New(rand.NewPCG(7, 7))
	rois := make([]float32, 5*g.K)
	for i := 0; i < g.K; i++ {
		x1, y1 := 1200*r.Float32(), 700*r.Float32()
		w, h := 16+240*r.Float32(), 16+240*r.Float32()
		rois[5*i] = float32(i % 2)
		rois[5*i+1], rois[5*i+2] = x1, y1
		rois[5*i+3], rois[5*i+4] = min(x1+w, 1343), min(y1+h, 799)
	}
	return g, rois
}

func benchRoIAlign(b *testing.B, backward bool) {
	d := gpuDevice(b)
	g, rois := benchRoIs()
	const batch = 2
	in := alloc(b, d, batch*g.C*g.H*g.W)
	if err := d.Fill(in, 0.5, batch*g.C*g.H*g.W); err != nil {
		b.Fatal(err)
	}
	pr, out := upload(b, d, rois), alloc(b, d, g.OutSize())
	if err := d.Fill(out, 1, g.OutSize()); err != nil {
		b.Fatal(err)
	}
	step := func() error {
		if backward {
			return d.RoIAlignBwd(in, out, pr, g)
		}
		return d.RoIAlignFwd(out, in, pr, g)
	}
	for range 3 {
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	ms, err := d.Time(func() error {
		for range b.N {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	per := float64(ms) / float64(b.N)
	b.ReportMetric(per, "ms/op")
	name := "fwd"
	if backward {
		name = "bwd"
	}
	fmt.Printf("BENCH detflow roi_align_%s K=%d C=%d %dx%d: %.4f ms\n", name, g.K, g.C, g.H, g.W, per)
}

// BenchmarkGPURoIAlignFwd times RoIAlign forward at the training shape.
func BenchmarkGPURoIAlignFwd(b *testing.B) { benchRoIAlign(b, false) }

// BenchmarkGPURoIAlignBwd times RoIAlign backward (atomicAdd) likewise.
func BenchmarkGPURoIAlignBwd(b *testing.B) { benchRoIAlign(b, true) }

// BenchmarkGPULaunchOverhead times an empty-ish launch (fill of 1 float)
// through the purego path, host side included.
func BenchmarkGPULaunchOverhead(b *testing.B) {
	d := gpuDevice(b)
	p := alloc(b, d, 1)
	b.ResetTimer()
	for range b.N {
		if err := d.Fill(p, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Synchronize(); err != nil {
		b.Fatal(err)
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e3
	fmt.Printf("BENCH detflow launch_overhead: %.2f us/launch (host)\n", per)
}
