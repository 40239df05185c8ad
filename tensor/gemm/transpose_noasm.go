//go:build noasm || !amd64

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
func transpose14AVX512(dst, src []float32, ld, chunks, dstStride int, alpha float32) {
	transposeGo(dst, src, ld, 14, 16*chunks, dstStride, alpha)
}

// transpose16AVX512 transposes chunks 16×16 blocks of a matrix with row
// stride ld: for p < 16*chunks and i < 16
//
//	dst[p*dstStride+i] = src[i*ld+p]
//
// The assembly needs AVX-512F; the pure-Go twin under the noasm tag computes
// the same.
func transpose16AVX512(dst, src []float32, ld, chunks, dstStride int) {
	transposeGo(dst, src, ld, 16, 16*chunks, dstStride, 1)
}

// transposeSmallAVX512 transposes one block of at most 16 rows and 16
// columns: for i < rows and p < cols, dst[p*dstStride+i] = src[i*ld+p].
func transposeSmallAVX512(dst, src []float32, ld, rows, cols, dstStride int) {
	transposeGo(dst, src, ld, rows, cols, dstStride, 1)
}

// copy14AVX512 copies rows rows of 14 values, src rows ld apart, into dst
// back to back: dst[p*14+i] = src[p*ld+i] for p < rows, i < 14 (packA's
// transposed-A panels). The assembly needs AVX-512F; the pure-Go twin under
// the noasm tag computes the same.
func copy14AVX512(dst, src []float32, ld, rows int) {
	for p := range rows {
		copy(dst[p*14:p*14+14], src[p*ld:p*ld+14])
	}
}
