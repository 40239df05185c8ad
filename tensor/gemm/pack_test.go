package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTransposeBlocks compares the block transposes used by the AVX-512
// packs (assembly, or their twins under noasm) with transposeGo, for column
// counts around the 16-column block size, with NaN guards around dst.
func TestTransposeBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, rows := range []int{14, 16} {
		for _, cols := range []int{0, 1, 15, 16, 17, 33, 64, 70} {
			const ld, stride = 83, 32
			src := make([]float32, rows*ld)
			for i := range src {
				src[i] = rng.Float32()
			}
			alpha := float32(-1.5)
			if rows == 16 {
				alpha = 1
			}
			size := max(cols*stride, 1)
			got := newNaNs(size + 2*guard)
			want := newNaNs(size + 2*guard)
			transposeGo(want[guard:], src, ld, rows, cols, stride, alpha)
			if rows == 14 {
				transposeBlocks14Stride(got[guard:], src, ld, cols, stride, alpha)
			} else {
				transposeBlocks16(got[guard:], src, ld, cols, stride)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("rows=%d cols=%d: element %d = %g, want %g", rows, cols, i-guard, got[i], want[i])
				}
			}
		}
	}
}

// transposeBlocks14Stride is transposeBlocks14 with a free destination
// stride, to test the assembly's stride handling.
func transposeBlocks14Stride(dst, src []float32, ld, cols, stride int, alpha float32) {
	chunks := cols / 16
	transpose14AVX512(dst, src, ld, chunks, stride, alpha)
	if done := 16 * chunks; done < cols {
		transposeGo(dst[done*stride:], src[done:], ld, 14, cols-done, stride, alpha)
	}
}

func newNaNs(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}
