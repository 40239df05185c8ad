package gemm

// SgemmRef is the plain triple loop used as the test oracle.
//
// It computes C = alpha*op(A)*op(B) + beta*C in row-major storage, where op(X)
// is X or its transpose. op(A) is m×k, op(B) is k×n and C is m×n. When beta is
// zero C is not read, so NaNs already in C do not propagate (BLAS semantics).
// It accumulates in float64 so that it is a tighter oracle than the kernels it
// checks.
func SgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float64
			for p := 0; p < k; p++ {
				sum += float64(elemA(transA, a, lda, i, p)) * float64(elemB(transB, b, ldb, p, j))
			}
			v := alpha * float32(sum)
			if beta != 0 {
				v += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = v
		}
	}
}

// elemA returns op(A)[i][p].
func elemA(trans bool, a []float32, lda, i, p int) float32 {
	if trans {
		return a[p*lda+i]
	}
	return a[i*lda+p]
}

// elemB returns op(B)[p][j].
func elemB(trans bool, b []float32, ldb, p, j int) float32 {
	if trans {
		return b[j*ldb+p]
	}
	return b[p*ldb+j]
}
