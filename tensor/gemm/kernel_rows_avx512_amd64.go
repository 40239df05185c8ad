//go:build !noasm

package gemm

// sgemmKernel14x32RowsAVX512 is sgemmKernel14x32AVX512 with B read in
// place: row p of the k×32 B tile is the 32 values at b + rows[p], not a
// packed micro-panel (see kernelGoRows for the loop). The FMAs run in the
// packed kernel's order, so a tile is bit-identical to packing B first.
//
//go:noescape
func sgemmKernel14x32RowsAVX512(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32)

// sgemmKernelTop8x32RowsAVX512 is sgemmKernel14x32RowsAVX512 cut to the top
// 8 rows of the tile, as sgemmKernelTop8x32AVX512.
//
//go:noescape
func sgemmKernelTop8x32RowsAVX512(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32)
