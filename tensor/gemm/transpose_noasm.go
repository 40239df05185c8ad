//go:build noasm || !amd64

package gemm

// transpose14AVX512 transposes chunks 14×16 blocks of a matrix with row
// stride ld, scaling by alpha: for p < 16*chunks and i < 14
//
//	dst[p*dstStride+i] = alpha * src[i*ld+p]
//
// Pure-Go twin of the AVX-512 transpose.
func transpose14AVX512(dst, src []float32, ld, chunks, dstStride int, alpha float32) {
	transposeGo(dst, src, ld, 14, 16*chunks, dstStride, alpha)
}

// transpose16AVX512 transposes chunks 16×16 blocks of a matrix with row
// stride ld: for p < 16*chunks and i < 16
//
//	dst[p*dstStride+i] = src[i*ld+p]
//
// Pure-Go twin of the AVX-512 transpose.
func transpose16AVX512(dst, src []float32, ld, chunks, dstStride int) {
	transposeGo(dst, src, ld, 16, 16*chunks, dstStride, 1)
}
