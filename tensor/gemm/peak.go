package gemm

import (
	"runtime"
	"time"
)

// peakLoop is an FMA-throughput loop and the flops one iteration performs.
type peakLoop struct {
	name         string
	fn           func(iters int, x float32) float32
	flopsPerIter float64
}

var (
	peakAVX512 = peakLoop{name: "avx512", fn: fmaPeakAVX512, flopsPerIter: 24 * 16 * 2}
	peakAVX2   = peakLoop{name: "avx2", fn: fmaPeakAVX2, flopsPerIter: 12 * 8 * 2}
	peakGo     = peakLoop{name: "generic", fn: fmaPeakScalar, flopsPerIter: 16 * 2}
)

// MeasurePeakGFLOPS measures this core's FP32 FMA throughput in GFLOP/s by
// running the widest FMA loop the CPU supports (the same instruction set as
// the SGEMM micro-kernel in use) on one locked OS thread for about d. The
// loop runs in slices of at least a millisecond and the fastest slice is
// reported, so that time stolen by other processes on a shared machine does
// not lower the figure.
func MeasurePeakGFLOPS(d time.Duration) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	loop := bestPeakLoop()
	iters := 1024
	var best float64
	var sink float32
	start := time.Now()
	for {
		t0 := time.Now()
		sink += loop.fn(iters, 1.0/1024)
		el := time.Since(t0)
		if el < time.Millisecond {
			iters *= 2
			continue
		}
		best = max(best, loop.flopsPerIter*float64(iters)/el.Seconds())
		if time.Since(start) >= d {
			break
		}
	}
	if sink < 0 { // keeps the loop's result live; never true (x*x > 0).
		return 0
	}
	return best / 1e9
}

// fmaPeakScalar is the portable peak loop: 16 independent scalar chains.
func fmaPeakScalar(iters int, x float32) float32 {
	return fmaPeakGo(iters, x, 16)
}

// fmaPeakGo runs iters iterations of acc[c] += x*x over lanes chains and,
// like the assembly loops, returns the sum of three of them.
func fmaPeakGo(iters int, x float32, lanes int) float32 {
	acc := make([]float32, lanes)
	for i := 0; i < iters; i++ {
		for c := range acc {
			acc[c] += x * x
		}
	}
	return acc[0] + acc[1] + acc[lanes-1]
}
