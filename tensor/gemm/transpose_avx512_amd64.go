//go:build !noasm

package gemm

// transpose14AVX512 transposes chunks 14×16 blocks of a matrix with row
// stride ld, scaling by alpha: for p < 16*chunks and i < 14
//
//	dst[p*dstStride+i] = alpha * src[i*ld+p]
//
// The assembly does each block with 14 row loads, a 16×16 in-register
// transpose (two zero rows) and 16 masked stores, far cheaper than a scalar
// transposing copy, and needs AVX-512F; the pure-Go twin under the noasm tag
// computes the same.
//
//go:noescape
func transpose14AVX512(dst, src []float32, ld, chunks, dstStride int, alpha float32)

// transpose16AVX512 transposes chunks 16×16 blocks of a matrix with row
// stride ld: for p < 16*chunks and i < 16
//
//	dst[p*dstStride+i] = src[i*ld+p]
//
// The assembly needs AVX-512F; the pure-Go twin under the noasm tag computes
// the same.
//
//go:noescape
func transpose16AVX512(dst, src []float32, ld, chunks, dstStride int)

// transposeSmallAVX512 transposes one block of at most 16 rows and 16
// columns: for i < rows ≤ 16 and p < cols ≤ 16 (both at least 1)
//
//	dst[p*dstStride+i] = src[i*ld+p]
//
// by masked loads, the 16×16 in-register transpose and masked stores,
// touching nothing outside the block.
//
//go:noescape
func transposeSmallAVX512(dst, src []float32, ld, rows, cols, dstStride int)

// copy14AVX512 copies rows rows of 14 values, src rows ld apart, into dst
// back to back: dst[p*14+i] = src[p*ld+i] for p < rows, i < 14 (packA's
// transposed-A panels). The assembly needs AVX-512F; the pure-Go twin under
// the noasm tag computes the same.
//
//go:noescape
func copy14AVX512(dst, src []float32, ld, rows int)
