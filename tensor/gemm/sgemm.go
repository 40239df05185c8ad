package gemm

import (
	"fmt"
	"runtime"
)

// Sizes below which Sgemm takes a cheaper path. Both are counts of
// multiply-adds (m*n*k).
const (
	// smallWork: below this the plain loops beat packing plus the vector
	// kernel. Measured on the Zen 5 machine by thread CPU time, n³ problems,
	// loops vs packed single goroutine: n=6 182 vs 225 ns, n=8 376 vs 272,
	// n=16 2644 vs 440, n=32 18024 vs 817 (BenchmarkSgemmSmall times the
	// same by wall clock). The packing overhead is that small, so only
	// really tiny products take the loops.
	smallWork = 7 * 7 * 7
	// serialWork: below this one goroutine beats starting more
	// (BenchmarkSgemmSerial); the packed path then runs on the caller's
	// goroutine only, without allocating.
	serialWork = 96 * 96 * 96
	// inPlaceRows: up to this many rows of C, an untransposed stored B is
	// read in place rather than packed (where the kernel can). Packing B
	// costs k·n copies whatever m is, and only pays off when many blocks
	// of A reuse the panel. BenchmarkInPlaceB on the Zen 5 machine, 2
	// workers, GFLOP/s in place vs packed: m=64, n=3136, k=576 313 vs 158;
	// m=160 338 vs 226; m=576, k=64 352 vs 296; m=1024, n=1000, k=1024
	// 299 vs 320.
	inPlaceRows = 640
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C, row-major; op(X) is X or its transpose.
// It uses runtime.GOMAXPROCS(0) worker goroutines (SgemmWorkers sets the number).
//
// op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row
// strides of a, b and c as stored. When beta is zero C is not read (NaNs in C
// do not propagate); when alpha is zero A and B are not read. Sgemm panics
// with a "gemm: " message when a slice is too short for its dimensions.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	SgemmWorkers(runtime.GOMAXPROCS(0), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmWorkers is Sgemm on at most workers goroutines (the caller's
// included; workers < 1 counts as 1). Data-parallel replicas that share the
// cores give each its share, so that two replicas on two cores do not run
// four GEMM workers.
func SgemmWorkers(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	work := m * n * k
	if work < smallWork {
		smallGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if work < serialWork {
		workers = 1
	}
	kern := bestKernel()
	if swapPays(kern, transA, m, n, k, alpha, beta) {
		sgemmSwapped(workers, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	g := gemmCall{
		transA: transA, transB: transB,
		m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda,
		b: b, ldb: ldb,
		strided: !transB && kern.rowsFn != nil && m <= inPlaceRows,
		beta:    beta, c: c, ldc: ldc,
	}
	g.run(kern, defaultBlocking(), max(workers, 1))
}

// Source supplies a B operand that is computed rather than stored, such as
// a convolution's im2col matrix: SgemmFrom packs its panels straight from
// Span, so the whole matrix is never written out. Span sets dst[i] =
// M[row][col+i] for i < len(dst), where M is B as it would be stored (k×n,
// or n×k when transB). Workers call it concurrently with distinct dst.
type Source interface {
	Span(row, col int, dst []float32)
}

// SgemmFrom is SgemmWorkers with B supplied by src. The products are
// bit-identical to SgemmWorkers' on the stored matrix: the packed panels
// hold the same values and the sums run in the same order.
func SgemmFrom(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, src Source, beta float32, c []float32, ldc int) {
	checkAC(transA, m, n, k, a, lda, c, ldc)
	if m == 0 || n == 0 || alpha == 0 || k == 0 || m*n*k < smallWork {
		// Too small to pack: store B and take Sgemm's paths.
		rows, cols := k, n
		if transB {
			rows, cols = n, k
		}
		b := make([]float32, rows*cols)
		if alpha != 0 {
			for r := range rows {
				src.Span(r, 0, b[r*cols:(r+1)*cols])
			}
		}
		SgemmWorkers(workers, transA, transB, m, n, k, alpha, a, lda, b, max(cols, 1), beta, c, ldc)
		return
	}
	if m*n*k < serialWork {
		workers = 1
	}
	g := gemmCall{
		transA: transA, transB: transB,
		m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda,
		src:  src,
		beta: beta, c: c, ldc: ldc,
	}
	g.run(bestKernel(), defaultBlocking(), max(workers, 1))
}

// SgemmRows is SgemmWorkers with B read in place, never packed: row p of
// the k×n matrix op(B) is b[rows[p] : rows[p]+n]. The rows need not be
// evenly spaced or apart: a stride-1 convolution's im2col matrix is rows
// of its (padded) input at offsets c·H·W + kh·W + kw. The products are
// bit-identical to SgemmWorkers' on the stored matrix. Without a kernel
// that reads B in place, B is gathered and multiplied by SgemmWorkers.
func SgemmRows(workers int, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, rows []int, beta float32, c []float32, ldc int) {
	checkAC(transA, m, n, k, a, lda, c, ldc)
	if len(rows) < k {
		panic(fmt.Sprintf("gemm: %d rows of B, need %d", len(rows), k))
	}
	for p, r := range rows[:k] {
		if r < 0 || n > 0 && r+n > len(b) {
			panic(fmt.Sprintf("gemm: row %d of B at %d, len(b)=%d, n=%d", p, r, len(b), n))
		}
	}
	kern := bestKernel()
	if kern.rowsFn == nil || m == 0 || n == 0 || alpha == 0 || k == 0 || m*n*k < smallWork {
		stored := make([]float32, k*n)
		for p, r := range rows[:k] {
			copy(stored[p*n:(p+1)*n], b[r:r+n])
		}
		SgemmWorkers(workers, transA, false, m, n, k, alpha, a, lda, stored, max(n, 1), beta, c, ldc)
		return
	}
	if m*n*k < serialWork {
		workers = 1
	}
	g := gemmCall{
		transA: transA,
		m:      m, n: n, k: k,
		alpha: alpha, a: a, lda: lda,
		b: b, rows: rows[:k],
		beta: beta, c: c, ldc: ldc,
	}
	g.run(kern, defaultBlocking(), max(workers, 1))
}

// checkAC is checkArgs for a product whose B is not a stored matrix.
func checkAC(transA bool, m, n, k int, a []float32, lda int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	aRows, aCols := m, k
	if transA {
		aRows, aCols = k, m
	}
	checkMatrix("a", a, aRows, aCols, lda)
	checkMatrix("c", c, m, n, ldc)
}

// scaleC sets C = beta*C, writing zeros without reading C when beta == 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		scaleRow(c[i*ldc:i*ldc+n], beta)
	}
}

// smallGemm is the path for tiny products: no workspace, no packing, no
// goroutines, an i-p-j loop that streams rows of op(B) and C.
func smallGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		scaleRow(crow, beta)
		for p := 0; p < k; p++ {
			s := alpha * elemA(transA, a, lda, i, p)
			if transB {
				for j := range crow {
					crow[j] += s * b[j*ldb+p]
				}
				continue
			}
			brow := b[p*ldb : p*ldb+n]
			for j, v := range brow {
				crow[j] += s * v
			}
		}
	}
}

// scaleRow sets row = beta*row, writing zeros without reading when beta == 0.
func scaleRow(row []float32, beta float32) {
	switch beta {
	case 0:
		clear(row)
	case 1:
	default:
		for j := range row {
			row[j] *= beta
		}
	}
}

// KernelName names the micro-kernel Sgemm uses on this machine: "avx512"
// (14×32 tile), "avx2" (6×16) or "generic" (4×8, plain Go), for benchmark
// and log output.
func KernelName() string {
	return bestKernel().name
}
