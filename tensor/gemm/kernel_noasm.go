//go:build noasm || !amd64

package gemm

import "unsafe"

// sgemmKernel14x32AVX512 computes a 14×32 tile: C = A·B + beta*C, with A a
// packed 14×k micro-panel and B a packed k×32 micro-panel (see kernelGoTile
// for the loop). The assembly keeps 28 zmm accumulators, two zmm rows of B
// and two broadcast registers (all 32) and needs AVX-512F; the pure-Go twin
// under the noasm tag computes the same tile.
func sgemmKernel14x32AVX512(k int, a, b, c []float32, ldc int, beta float32) {
	kernelGoTile(14, 32, k, a, b, c, ldc, beta)
}

// sgemmKernel6x16AVX2 computes a 6×16 tile: C = A·B + beta*C, with A a
// packed 6×k micro-panel and B a packed k×16 micro-panel (see kernelGoTile
// for the loop). The assembly keeps 12 ymm accumulators, two ymm rows of B
// and two broadcast registers (all 16) and needs AVX2 and FMA; the pure-Go
// twin under the noasm tag computes the same tile.
func sgemmKernel6x16AVX2(k int, a, b, c []float32, ldc int, beta float32) {
	kernelGoTile(6, 16, k, a, b, c, ldc, beta)
}

// sgemmKernel14x32RowsAVX512 is sgemmKernel14x32AVX512 with B read in
// place: row p of the k×32 B tile is the 32 values at b + rows[p], not a
// packed micro-panel (see kernelGoRows for the loop). The FMAs run in the
// packed kernel's order, so a tile is bit-identical to packing B first.
func sgemmKernel14x32RowsAVX512(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32) {
	kernelGoRows(14, 32, k, a, unsafe.Slice(b, maxRow(rows[:k])+32), rows, c, ldc, beta)
}

// sgemmKernelTop8x32AVX512 is sgemmKernel14x32AVX512 cut to the top 8 rows
// of the tile, for edge blocks of op(A): A is still packed 14 values per k
// step, and the 8 rows of C are those the full kernel computes, bit for
// bit.
func sgemmKernelTop8x32AVX512(k int, a, b, c []float32, ldc int, beta float32) {
	var tile [14 * 32]float32
	kernelGoTile(14, 32, k, a, b, tile[:], 32, 0)
	mergeTile(c, ldc, tile[:], 32, 8, 32, beta)
}

// sgemmKernelTop8x32RowsAVX512 is sgemmKernel14x32RowsAVX512 cut to the top
// 8 rows of the tile, as sgemmKernelTop8x32AVX512.
func sgemmKernelTop8x32RowsAVX512(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32) {
	var tile [14 * 32]float32
	sgemmKernel14x32RowsAVX512(k, a, b, rows, tile[:], 32, 0)
	mergeTile(c, ldc, tile[:], 32, 8, 32, beta)
}

// sgemmKernelLeft14x16AVX512 is sgemmKernel14x32AVX512 cut to the left 16
// columns of the tile, for edge slivers of B: B is still packed 32 values
// per k step, and the 16 columns of C are those the full kernel computes,
// bit for bit.
func sgemmKernelLeft14x16AVX512(k int, a, b, c []float32, ldc int, beta float32) {
	var tile [14 * 32]float32
	kernelGoTile(14, 32, k, a, b, tile[:], 32, 0)
	mergeTile(c, ldc, tile[:], 32, 14, 16, beta)
}
