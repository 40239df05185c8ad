package gemm

import "fmt"

// checkArgs panics with a "gemm: " prefix when the dimensions, leading
// dimensions or slice lengths cannot describe the requested product. These are
// programmer errors in a hot kernel (STYLE.md §7), so they panic rather than
// return an error.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	aRows, aCols := m, k
	if transA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if transB {
		bRows, bCols = n, k
	}
	checkMatrix("a", a, aRows, aCols, lda)
	checkMatrix("b", b, bRows, bCols, ldb)
	checkMatrix("c", c, m, n, ldc)
}

// checkMatrix verifies that s can hold a rows×cols row-major matrix with
// leading dimension ld.
func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("gemm: ld%s=%d less than %d columns", name, ld, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("gemm: len(%s)=%d, need %d for %d×%d with ld %d", name, len(s), need, rows, cols, ld))
	}
}
