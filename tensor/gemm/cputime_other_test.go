//go:build !unix

package gemm

// processCPUSeconds is unavailable here; benchmarks then report wall-clock
// figures only.
func processCPUSeconds() (float64, bool) {
	return 0, false
}
