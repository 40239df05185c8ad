//go:build !noasm

package gemm

import "golang.org/x/sys/cpu"

// bestKernel returns the fastest micro-kernel this CPU can run. x/sys/cpu
// also checks that the OS saves the wider register state.
func bestKernel() microKernel {
	switch {
	case cpu.X86.HasAVX512F:
		return kernelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return kernelAVX2
	default:
		return kernelGo
	}
}

// runnableKernels returns every micro-kernel this CPU can run, best first.
func runnableKernels() []microKernel {
	var ks []microKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernelAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernelAVX2)
	}
	return append(ks, kernelGo)
}

// bestPeakLoop returns the FMA loop of the widest vector unit the CPU has.
func bestPeakLoop() peakLoop {
	switch {
	case cpu.X86.HasAVX512F:
		return peakAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return peakAVX2
	default:
		return peakGo
	}
}

// runnablePeakLoops returns every FMA peak loop this CPU can run.
func runnablePeakLoops() []peakLoop {
	var ls []peakLoop
	if cpu.X86.HasAVX512F {
		ls = append(ls, peakAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls, peakAVX2)
	}
	return append(ls, peakGo)
}
