//go:build noasm || !amd64

package gemm

// bestKernel returns the portable micro-kernel: without assembly the twins
// of the vector kernels are no faster than it.
func bestKernel() microKernel {
	return kernelGo
}

// runnableKernels returns every micro-kernel; without assembly they are all
// pure Go, so the twins of the vector kernels are exercised too.
func runnableKernels() []microKernel {
	return []microKernel{kernelGo, kernelAVX512, kernelAVX2}
}

// bestPeakLoop returns the scalar FMA loop.
func bestPeakLoop() peakLoop {
	return peakGo
}

// runnablePeakLoops returns every FMA peak loop; all are pure Go here.
func runnablePeakLoops() []peakLoop {
	return []peakLoop{peakGo, peakAVX512, peakAVX2}
}
