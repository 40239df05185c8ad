package gemm

// Transpose sets dst[p*dstStride+i] = src[i*ld+p] for i < rows, p < cols:
// the rows×cols matrix src (row stride ld) written column by column. Whole
// 16×16 blocks go through the AVX-512 transposes that pack B, where the CPU
// has them. Convolutions use it to lay an image out channels last.
func Transpose(dst, src []float32, ld, rows, cols, dstStride int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	checkMatrix("src", src, rows, cols, ld)
	checkMatrix("dst", dst, cols, rows, dstStride)
	i := 0
	if bestKernel().simd {
		for ; i+16 <= rows; i += 16 {
			transposeBlocks16(dst[i:], src[i*ld:], ld, cols, dstStride)
		}
	}
	if i < rows {
		transposeGo(dst[i:], src[i*ld:], ld, rows-i, cols, dstStride, 1)
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
