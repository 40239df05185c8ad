//go:build !noasm

package gemm

// sgemmKernel14x32AVX512 computes a 14×32 tile: C = A·B + beta*C, with A a
// packed 14×k micro-panel and B a packed k×32 micro-panel (see kernelGoTile
// for the loop). The assembly keeps 28 zmm accumulators, two zmm rows of B
// and two broadcast registers (all 32) and needs AVX-512F; the pure-Go twin
// under the noasm tag computes the same tile.
//
//go:noescape
func sgemmKernel14x32AVX512(k int, a, b, c []float32, ldc int, beta float32)
