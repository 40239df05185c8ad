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
func bnGradAVX512(dst, xs, gs *float32, n int, p *[5]float32)

//go:noescape
func dotSumAVX(gs, xs *float32, n int, acc *[8]float64)

//go:noescape
func sum2AVX(xs *float32, n int, acc *[8]float64)

// The ...Vec functions run a vector loop over the longest prefix it covers
// and return that prefix's length; the caller's scalar loop does the rest.
// Callers pass slices of equal length.

func reluVec(ys, xs []float32) int {
	n := len(xs) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _ = ys[n-1], xs[n-1]
	reluAVX512(&ys[0], &xs[0], n)
	return n
}

func reluGradVec(dxs, dys, ys []float32) int {
	n := len(dys) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _, _ = dxs[n-1], dys[n-1], ys[n-1]
	reluGradAVX512(&dxs[0], &dys[0], &ys[0], n)
	return n
}

func affineVec(ys, xs []float32, a, b float32) int {
	n := len(xs) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _ = ys[n-1], xs[n-1]
	affineAVX512(&ys[0], &xs[0], n, a, b)
	return n
}

func addVec(dst, src []float32) int {
	n := len(dst) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _ = dst[n-1], src[n-1]
	addAVX512(&dst[0], &src[0], n)
	return n
}

func bnGradVec(dst, xs, gs []float32, p *[5]float32) int {
	n := len(gs) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _, _ = dst[n-1], xs[n-1], gs[n-1]
	bnGradAVX512(&dst[0], &xs[0], &gs[0], n, p)
	return n
}

func dotSumVec(gs, xs []float32, acc *[8]float64) int {
	n := len(gs) &^ 3
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _ = gs[n-1], xs[n-1]
	dotSumAVX(&gs[0], &xs[0], n, acc)
	return n
}

func sum2Vec(xs []float32, acc *[8]float64) int {
	n := len(xs) &^ 3
	if !useAVX512 || n == 0 {
		return 0
	}
	_ = xs[n-1]
	sum2AVX(&xs[0], n, acc)
	return n
}
