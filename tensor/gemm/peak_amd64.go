//go:build !noasm

package gemm

// fmaPeakAVX512 runs iters iterations of 24 independent zmm FMA chains
// (768 flops per iteration):
//
//	for i := 0; i < iters; i++ {
//		for c := range acc { // 24 chains × 16 lanes
//			acc[c] += x * x
//		}
//	}
//
// It returns lane 0 of three chains summed (3*iters*x*x) so that the work
// is observable and checkable. Requires AVX-512F.
//
//go:noescape
func fmaPeakAVX512(iters int, x float32) float32

// fmaPeakAVX2 runs iters iterations of 12 independent ymm FMA chains
// (192 flops per iteration), as fmaPeakAVX512. Requires AVX2 and FMA.
//
//go:noescape
func fmaPeakAVX2(iters int, x float32) float32
