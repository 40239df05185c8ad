//go:build unix

package gemm

import "syscall"

// processCPUSeconds returns the user+system CPU time of this process, so
// that benchmarks on a shared machine can report throughput per CPU-second
// next to wall-clock throughput.
func processCPUSeconds() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) * 1e-9, true
}
