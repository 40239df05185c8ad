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

// sgemmKernelTop8x32AVX512 is sgemmKernel14x32AVX512 cut to the top 8 rows
// of the tile, for edge blocks of op(A): A is still packed 14 values per k
// step, and the 8 rows of C are those the full kernel computes, bit for
// bit.
//
//go:noescape
func sgemmKernelTop8x32AVX512(k int, a, b, c []float32, ldc int, beta float32)

// sgemmKernelLeft14x16AVX512 is sgemmKernel14x32AVX512 cut to the left 16
// columns of the tile, for edge slivers of B: B is still packed 32 values
// per k step, and the 16 columns of C are those the full kernel computes,
// bit for bit.
//
//go:noescape
func sgemmKernelLeft14x16AVX512(k int, a, b, c []float32, ldc int, beta float32)
