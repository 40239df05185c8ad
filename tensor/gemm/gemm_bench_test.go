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

func benchSquare(b *testing.B, n, threads int, peak float64, f sgemmFunc) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	x := make([]float32, n*n)
	y := make([]float32, n*n)
	z := make([]float32, n*n)
	for i := range x {
		x[i], y[i] = rng.Float32(), rng.Float32()
	}
	b.ResetTimer()
	for b.Loop() {
		f(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
	}
	gflops := 2 * float64(n) * float64(n) * float64(n) * float64(b.N) / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gflops, "GFLOP/s")
	b.ReportMetric(gflops/(peak*float64(threads)), "peak-frac")
}

// BenchmarkBlocking sweeps kc and mc at n=1024 on one thread, to retune
// defaultBlocking on another machine.
func BenchmarkBlocking(b *testing.B) {
	peak := peakOnce()
	for _, kc := range []int{128, 192, 256, 384, 512} {
		for _, mc := range []int{112, 224, 336, 504} {
			bl := defaultBlocking()
			bl.kc, bl.mc = kc, mc
			f := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				g := gemmCall{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
				g.run(bestKernel(), bl, 1)
			}
			b.Run(fmt.Sprintf("kc=%d/mc=%d", kc, mc), func(b *testing.B) { benchSquare(b, 1024, 1, peak, f) })
		}
	}
}

// BenchmarkPack compares the scalar transposing packs with the simd packs
// of the best kernel (the same code where the kernel has no simd pack).
func BenchmarkPack(b *testing.B) {
	const n, kc, mc, nc = 1024, 256, 336, 1024
	kern := bestKernel()
	src := make([]float32, n*n)
	dstA := make([]float32, roundUp(mc, kern.mr)*kc)
	dstB := make([]float32, kc*roundUp(nc, kern.nr))
	for _, simd := range []bool{false, kern.simd} {
		b.Run(fmt.Sprintf("A/simd=%v", simd), func(b *testing.B) {
			for b.Loop() {
				packA(dstA, src, n, false, 1, 0, mc, 0, kc, kern.mr, simd)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mc*kc), "ns/elem")
		})
		b.Run(fmt.Sprintf("Btrans/simd=%v", simd), func(b *testing.B) {
			slivers := ceilDiv(nc, kern.nr)
			for b.Loop() {
				packB(dstB, src, n, true, 0, kc, 0, nc, kern.nr, 0, slivers, simd)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nc*kc), "ns/elem")
		})
	}
	b.Run("B/copy", func(b *testing.B) {
		slivers := ceilDiv(nc, kern.nr)
		for b.Loop() {
			packB(dstB, src, n, false, 0, kc, 0, nc, kern.nr, 0, slivers, false)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nc*kc), "ns/elem")
	})
}
