//go:build !noasm

package gemm

// sgemmKernel14x32AVX512 computes a 14×32 tile: C = A·B + beta*C, with A a
// packed 14×k micro-panel and B a packed k×32 micro-panel (see kernelGoTile
// for the loop). 28 zmm accumulators, two zmm rows of B and two broadcast
// registers use all 32 vector registers. Requires AVX-512F.
//
//go:noescape
func sgemmKernel14x32AVX512(k int, a, b, c []float32, ldc int, beta float32)
