//go:build !noasm

package tensor

import "golang.org/x/sys/cpu"

// useAVX512 selects the vector loops of simd_amd64.s (AVX-512F, and FMA for
// the float64 sums). x/sys/cpu also checks that the OS saves the registers.
var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasFMA

//go:noescape
func reluAVX512(dst, src *float32, n int)

//go:noescape
func reluGradAVX512(dx, dy, y *float32, n int)

//go:noescape
func affineAVX512(dst, src *float32, n int, a, b float32)

//go:noescape
func addAVX512(dst, src *float32, n int)

//go:noescape
func addRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int)

//go:noescape
func copyRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int)

//go:noescape
func evensRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int, masks uint64)

//go:noescape
func addEvensRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int)

//go:noescape
func bnGradAVX512(dst, xs, gs *float32, n int, p *[5]float32)

//go:noescape
func dotSumAVX(gs, xs *float32, n int, acc *[8]float64)

//go:noescape
func sum2AVX(xs *float32, n int, acc *[8]float64)

// The ...Vec functions run a vector loop over the longest prefix it covers
// and return that prefix's length; the caller's scalar loop does the rest.
// Slicing each operand to the prefix checks its length before the
// assembly touches it.

// vecLen is the prefix of n values that loops of block values cover (0
// without AVX-512); block is a power of two.
func vecLen(n, block int) int {
	if !useAVX512 {
		return 0
	}
	return n &^ (block - 1)
}

func reluVec(ys, xs []float32) int {
	n := vecLen(len(xs), 16)
	if n > 0 {
		reluAVX512(&ys[:n][0], &xs[:n][0], n)
	}
	return n
}

func reluGradVec(dxs, dys, ys []float32) int {
	n := vecLen(len(dys), 16)
	if n > 0 {
		reluGradAVX512(&dxs[:n][0], &dys[:n][0], &ys[:n][0], n)
	}
	return n
}

func affineVec(ys, xs []float32, a, b float32) int {
	n := vecLen(len(xs), 16)
	if n > 0 {
		affineAVX512(&ys[:n][0], &xs[:n][0], n, a, b)
	}
	return n
}

func addVec(dst, src []float32) int {
	n := vecLen(len(dst), 16)
	if n > 0 {
		addAVX512(&dst[:n][0], &src[:n][0], n)
	}
	return n
}

// addRowsVec is addRows by addRowsAVX512, reporting false without AVX-512.
// The caller has checked that both slices hold every row.
func addRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool {
	if !useAVX512 {
		return false
	}
	addRowsAVX512(&dst[0], &src[0], w, rows, dstStride, srcStride)
	return true
}

// copyRowsVec is copyRows by copyRowsAVX512, reporting false without
// AVX-512. The caller has checked that both slices hold every row.
func copyRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool {
	if !useAVX512 {
		return false
	}
	copyRowsAVX512(&dst[0], &src[0], w, rows, dstStride, srcStride)
	return true
}

// evensRowsVec is evensRows by evensRowsAVX512, reporting false without
// AVX-512. The caller has checked that both slices hold every row.
func evensRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool {
	if !useAVX512 {
		return false
	}
	t := w - (w-1)/16*16 // values in a row's last block, 1..16
	lanes := func(n int) uint64 { return 1<<max(0, min(n, 16)) - 1 }
	masks := lanes(2*t-1) | lanes(2*t-17)<<16 | lanes(t)<<32
	evensRowsAVX512(&dst[0], &src[0], w, rows, dstStride, srcStride, masks)
	return true
}

// addEvensRowsVec is addEvensRows by addEvensRowsAVX512, reporting false
// without AVX-512. The caller has checked that both slices hold every row.
func addEvensRowsVec(dst, src []float32, w, rows, dstStride, srcStride int) bool {
	if !useAVX512 {
		return false
	}
	addEvensRowsAVX512(&dst[0], &src[0], w, rows, dstStride, srcStride)
	return true
}

func bnGradVec(dst, xs, gs []float32, p *[5]float32) int {
	n := vecLen(len(gs), 16)
	if n > 0 {
		bnGradAVX512(&dst[:n][0], &xs[:n][0], &gs[:n][0], n, p)
	}
	return n
}

func dotSumVec(gs, xs []float32, acc *[8]float64) int {
	n := vecLen(len(gs), 4)
	if n > 0 {
		dotSumAVX(&gs[:n][0], &xs[:n][0], n, acc)
	}
	return n
}

func sum2Vec(xs []float32, acc *[8]float64) int {
	n := vecLen(len(xs), 4)
	if n > 0 {
		sum2AVX(&xs[:n][0], n, acc)
	}
	return n
}
