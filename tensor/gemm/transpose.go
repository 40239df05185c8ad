package gemm

// Transpose sets dst[p*dstStride+i] = src[i*ld+p] for i < rows, p < cols:
// the rows×cols matrix src (row stride ld) written column by column. Blocks
// of up to 16×16 go through the AVX-512 transposes that pack B, where the
// CPU has them. Convolutions use it to lay an image out channels last.
func Transpose(dst, src []float32, ld, rows, cols, dstStride int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	checkMatrix("src", src, rows, cols, ld)
	checkMatrix("dst", dst, cols, rows, dstStride)
	if !bestKernel().simd {
		transposeGo(dst, src, ld, rows, cols, dstStride, 1)
		return
	}
	i := 0
	for ; i+16 <= rows; i += 16 {
		transposeBlocks16(dst[i:], src[i*ld:], ld, cols, dstStride)
	}
	// The last rows (a conv's 9 taps, say) in blocks of 16 columns.
	for j := 0; i < rows && j < cols; j += 16 {
		transposeSmallAVX512(dst[j*dstStride+i:], src[i*ld+j:], ld, rows-i, min(16, cols-j), dstStride)
	}
}

// KStep is the depth of the steps in which Sgemm, SgemmFrom and SgemmRows
// split a product's k (C gets each step's partial sums in turn). A product
// computed as several calls over consecutive ranges of k, the first with
// the caller's beta and the rest with beta 1, gives the same bits as one
// call if every range but the last is a whole number of steps and the last
// is a whole number of steps or the final, shorter step alone (and no call
// is so small, m·n·k < 343, that it takes the plain loops).
func KStep(k int) int {
	if k <= 0 {
		return 0
	}
	return ceilDiv(k, ceilDiv(k, defaultBlocking().kc))
}
