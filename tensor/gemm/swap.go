package gemm

import "sync"

// A product whose C is narrow (n of a few dozen, such as a convolution
// over a batch of 7x7 images: n = 98) runs the 14×32 micro-kernel on tiles
// mostly past C's edge: 98 columns take four 32-wide slivers, 77% of them
// used. Computed as Cᵀ = op(B)ᵀ·op(A)ᵀ, the same n is the rows of the
// product, 7 whole 14-row panels. The terms and their order are the same
// (the kernel's fused multiply-adds commute a and b exactly), so C is
// bit-identical, as long as alpha is 1 (packing folds alpha into op(A))
// and beta is 0 or 1 (tiles past C's edge add beta·C unfused, whole tiles
// fused, and the edges are elsewhere in Cᵀ).

// swapPays reports whether C = op(A)·op(B) goes faster as Cᵀ: the kernel's
// tiles cover C at least 15% better that way, C is narrow enough (n ≤ 128)
// that the in-place B of a wide product is not given up, k is deep enough
// to pay for transposing C, and A is transposed, so that op(A)ᵀ, the B of
// Cᵀ, is stored untransposed and read in place (by a kernel that can).
// BenchmarkSwapped, ResNet-50's 7x7-stage input gradients on 2 workers,
// direct -> swapped GFLOP/s (medians of 3): the 3x3 convs' dcol (m=4608,
// n=98, k=512) 202 -> 264, m=2048, k=512 175 -> 231, m=1024, k=2048 189
// -> 216. Untransposed, op(A)ᵀ would be packed, in panels of thousands of
// columns that the few rows of Cᵀ reuse too little: m=2048, n=98, k=512
// went from 227 to 205.
func swapPays(kern microKernel, transA bool, m, n, k int, alpha, beta float32) bool {
	if !transA || kern.rowsFn == nil || alpha != 1 || beta != 0 && beta != 1 || n > 128 || k < 64 {
		return false
	}
	return 100*cover(kern, n, m) >= 115*cover(kern, m, n)
}

// cover is the share of the kernel's tiles that an m×n C fills, in parts
// per 10⁶.
func cover(kern microKernel, m, n int) int {
	return 1_000_000 * m / roundUp(m, kern.mr) * n / roundUp(n, kern.nr)
}

// sgemmSwapped computes C = op(A)·op(B) + beta·C as Cᵀ = op(B)ᵀ·op(A)ᵀ +
// beta·Cᵀ into a scratch matrix, then transposes it into C.
func sgemmSwapped(workers int, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t := takeSwapScratch(m * n)
	defer swapScratch.Put(t)
	if beta != 0 {
		Transpose(*t, c, ldc, m, n, m)
	}
	SgemmWorkers(workers, !transB, !transA, n, m, k, 1, b, ldb, a, lda, beta, *t, m)
	Transpose(c, *t, m, n, m, ldc)
}

// swapScratch recycles sgemmSwapped's Cᵀ (at most a few MB: C is narrow).
var swapScratch sync.Pool

func takeSwapScratch(n int) *[]float32 {
	if t, ok := swapScratch.Get().(*[]float32); ok && cap(*t) >= n {
		*t = (*t)[:n]
		return t
	}
	t := make([]float32, n)
	return &t
}
