//go:build !noasm

package gemm

// sgemmKernel6x16AVX2 computes a 6×16 tile: C = A·B + beta*C, with A a
// packed 6×k micro-panel and B a packed k×16 micro-panel (see kernelGoTile
// for the loop). The assembly keeps 12 ymm accumulators, two ymm rows of B
// and two broadcast registers (all 16) and needs AVX2 and FMA; the pure-Go
// twin under the noasm tag computes the same tile.
//
//go:noescape
func sgemmKernel6x16AVX2(k int, a, b, c []float32, ldc int, beta float32)
