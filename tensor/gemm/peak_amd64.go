//go:build !noasm

package gemm

// fmaPeakAVX512 runs iters iterations of 24 independent 16-lane FMA chains
// (768 flops per iteration):
//
//	for i := 0; i < iters; i++ {
//		for c := range acc { // 24 chains × 16 lanes
//			acc[c] += x * x
//		}
//	}
//
// It returns lane 0 of three chains summed (3*iters*x*x) so that the work
// is observable and checkable. The assembly needs AVX-512F; the pure-Go twin
// under the noasm tag does the same arithmetic.
//
//go:noescape
func fmaPeakAVX512(iters int, x float32) float32

// fmaPeakAVX2 runs iters iterations of 12 independent 8-lane FMA chains
// (192 flops per iteration), as fmaPeakAVX512. The assembly needs AVX2 and
// FMA; the pure-Go twin under the noasm tag does the same arithmetic.
//
//go:noescape
func fmaPeakAVX2(iters int, x float32) float32
