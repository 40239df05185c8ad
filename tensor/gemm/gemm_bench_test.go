package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// peakOnce measures single-core peak once per test binary so every SGEMM
// benchmark can report its fraction of it.
var peakOnce = sync.OnceValue(func() float64 {
	return MeasurePeakGFLOPS(300 * time.Millisecond)
})

// BenchmarkPeakFMA reports the measured single-core FP32 FMA peak.
func BenchmarkPeakFMA(b *testing.B) {
	var g float64
	for b.Loop() {
		g = MeasurePeakGFLOPS(200 * time.Millisecond)
	}
	b.ReportMetric(g, "GFLOP/s")
}

// BenchmarkSgemm sweeps square sizes on one thread and on all cores and
// reports GFLOP/s and the fraction of the measured single-core peak (per
// thread, so a perfect 2-core run reports 1.0).
func BenchmarkSgemm(b *testing.B) {
	peak := peakOnce()
	b.Logf("kernel %s, single-core peak %.1f GFLOP/s", KernelName(), peak)
	all := runtime.GOMAXPROCS(0)
	threads := []int{1}
	if all > 1 {
		threads = append(threads, all)
	}
	for _, n := range []int{256, 512, 1024, 2048} {
		for _, th := range threads {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, th), func(b *testing.B) {
				benchSquare(b, n, th, peak, Sgemm)
			})
		}
	}
}

// BenchmarkSgemmRef is the naive baseline: the reference triple loop.
func BenchmarkSgemmRef(b *testing.B) {
	peak := peakOnce()
	for _, n := range []int{64, 128, 256} {
		b.Run(fmt.Sprintf("n=%d/threads=1", n), func(b *testing.B) {
			benchSquare(b, n, 1, peak, SgemmRef)
		})
	}
}

// BenchmarkSgemmSmall times the plain-loop path and the packed
// single-goroutine path on tiny sizes, to place the smallWork cut-over.
func BenchmarkSgemmSmall(b *testing.B) {
	peak := peakOnce()
	loops := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		smallGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	packed := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		g := gemmCall{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
		g.run(bestKernel(), defaultBlocking(), 1)
	}
	for _, n := range []int{4, 6, 8, 16, 32} {
		b.Run(fmt.Sprintf("path=loops/n=%d", n), func(b *testing.B) { benchSquare(b, n, 1, peak, loops) })
		b.Run(fmt.Sprintf("path=packed/n=%d", n), func(b *testing.B) { benchSquare(b, n, 1, peak, packed) })
	}
}

// BenchmarkSgemmSerial times the packed path on one goroutine and on all
// around the serialWork cut-over (below it Sgemm stays on one goroutine).
func BenchmarkSgemmSerial(b *testing.B) {
	peak := peakOnce()
	all := runtime.GOMAXPROCS(0)
	for _, n := range []int{48, 64, 96, 128, 160} {
		for _, workers := range []int{1, all} {
			f := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				g := gemmCall{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
				g.run(bestKernel(), defaultBlocking(), workers)
			}
			b.Run(fmt.Sprintf("n=%d/workers=%d", n, workers), func(b *testing.B) { benchSquare(b, n, all, peak, f) })
		}
	}
}

// benchSquare times f on n×n×n and reports GFLOP/s, the fraction of the
// single-core peak per thread, and GFLOP per CPU-second of the process
// (GFLOP/cpu-s), which time slices taken by other processes on a shared
// machine do not lower.
func benchSquare(b *testing.B, n, threads int, peak float64, f sgemmFunc) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	x := make([]float32, n*n)
	y := make([]float32, n*n)
	z := make([]float32, n*n)
	for i := range x {
		x[i], y[i] = rng.Float32(), rng.Float32()
	}
	f(false, false, n, n, n, 1, x, n, y, n, 0, z, n) // warm the workspace pool
	cpu0, cpuOK := processCPUSeconds()
	b.ResetTimer()
	for b.Loop() {
		f(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
	}
	cpu1, _ := processCPUSeconds()
	flops := 2 * float64(n) * float64(n) * float64(n) * float64(b.N)
	gflops := flops / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gflops, "GFLOP/s")
	b.ReportMetric(gflops/(peak*float64(threads)), "peak-frac")
	if cpuOK && cpu1 > cpu0 {
		b.ReportMetric(flops/(cpu1-cpu0)/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkInPlaceB times untransposed B packed and read in place on
// convolution-shaped products (2 workers, wall clock), to place the
// inPlaceRows cut-over: packing costs k·n copies whatever m is.
func BenchmarkInPlaceB(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{
		{64, 3136, 576}, {64, 3136, 256}, {160, 3136, 576}, {576, 3136, 64},
		{128, 784, 1152}, {1024, 1000, 1024}, {2048, 1000, 1024},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		x, y, z := randomSlice(rng, s.m*s.k), randomSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
		for _, strided := range []bool{false, true} {
			name := fmt.Sprintf("m=%d/n=%d/k=%d/inplace=%v", s.m, s.n, s.k, strided)
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					g := gemmCall{m: s.m, n: s.n, k: s.k, alpha: 1, a: x, lda: s.k, b: y, ldb: s.n, strided: strided, c: z, ldc: s.n}
					g.run(bestKernel(), defaultBlocking(), 2)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
