package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/tensor/gemm"
)

// TestWeightGradInPlaceMatchesPacked: gemmWeightGrad (colᵀ read in place
// from a channels-last copy) gives bit for bit what packing colᵀ from the
// images gives, for strides, vertical dilation, several images, beta 0 and
// 1, an alpha that is not 1, a C wider than its rows, and bands of the
// copy down to one k step (the last one shorter) each.
func TestWeightGradInPlaceMatchesPacked(t *testing.T) {
	cases := []struct {
		name           string
		images, m      int
		g              ConvGeom
		alpha, beta    float32
		ldcPad, bandFl int
	}{
		{"3x3 pad 1", 1, 16, ConvGeom{C: 64, H: 23, W: 19, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}, 1, 0, 0, 0},
		{"3x3 stride 2, two images, beta 1", 2, 30, ConvGeom{C: 32, H: 29, W: 31, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}, 1, 1, 0, 0},
		{"7x7 stride 2 pad 3, alpha", 1, 17, ConvGeom{C: 16, H: 40, W: 37, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3, DilationH: 1, DilationW: 1}, 0.5, 0, 0, 0},
		{"dilated rows, 5x3, wide C", 3, 9, ConvGeom{C: 24, H: 17, W: 15, KH: 5, KW: 3, StrideH: 1, StrideW: 2, PadH: 4, PadW: 0, DilationH: 2, DilationW: 1}, 1, 1, 7, 0},
		{"bands of one step", 2, 20, ConvGeom{C: 48, H: 60, W: 41, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}, 1, 1, 0, 1},
		{"bands of a few steps", 1, 20, ConvGeom{C: 48, H: 70, W: 41, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}, 1, 0, 0, 20 * 43 * 48},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32() - 0.5
		}
		return s
	}
	defer func(v int) { weightGradBandFloats = v }(weightGradBandFloats)
	for _, tc := range cases {
		g := tc.g
		if !weightGradInPlace(tc.m, tc.images*g.ColCols(), g) {
			t.Fatalf("%s: weightGradInPlace false", tc.name)
		}
		weightGradBandFloats = paddedBandFloats
		if tc.bandFl > 0 {
			weightGradBandFloats = tc.bandFl
		}
		n, k := g.ColRows(), tc.images*g.ColCols()
		lda, ldc := k+3, n+tc.ldcPad
		xs, a, c0 := rnd(tc.images*g.C*g.H*g.W), rnd(tc.m*lda), rnd(tc.m*ldc)
		if ends, _ := newChannelsLast(xs, g).bands(k); len(ends) < 2 && tc.bandFl > 0 {
			t.Fatalf("%s: one band, want several", tc.name)
		}
		for _, workers := range []int{1, 2} {
			want := append([]float32(nil), c0...)
			gemm.SgemmFrom(workers, false, true, tc.m, n, k, tc.alpha, a, lda, newIm2colSource(xs, g, tc.images), tc.beta, want, ldc)
			got := append([]float32(nil), c0...)
			NewCPU(workers).gemmWeightGrad(tc.m, k, tc.alpha, a, lda, xs, g, tc.beta, got, ldc)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s, %d workers: c[%d] = %v, packed gives %v", tc.name, workers, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkWeightGrad times the weight-gradient GEMM of ResNet-50's 3x3
// convs (batch 2 at 224, and layer1 of one 1333x800 image, whose
// channels-last copy goes in bands), colᵀ packed from the images vs read
// in place from the channels-last copy, on two workers.
func BenchmarkWeightGrad(b *testing.B) {
	shapes := []struct {
		name         string
		images, m, c int
		h, w, stride int
	}{
		{"l1 3x3 64 56", 1, 64, 64, 56, 56, 1},
		{"l2 3x3 128 28", 1, 128, 128, 28, 28, 1},
		{"l2 3x3 s2 128 56", 1, 128, 128, 56, 56, 2},
		{"l3 3x3 256 14 batched", 2, 256, 256, 14, 14, 1},
		{"l3 3x3 s2 256 28 batched", 2, 256, 256, 28, 28, 2},
		{"l4 3x3 512 7 batched", 2, 512, 512, 7, 7, 1},
		{"l1 3x3 64 200x336", 1, 64, 64, 200, 336, 1},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range shapes {
		g := ConvGeom{C: s.c, H: s.h, W: s.w, KH: 3, KW: 3, StrideH: s.stride, StrideW: s.stride, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}
		n, k := g.ColRows(), s.images*g.ColCols()
		xs, a, c := uniform(rng, s.images*g.C*g.H*g.W), uniform(rng, s.m*k), make([]float32, s.m*n)
		d := NewCPU(2)
		benchPackedInPlace(b, s.name, 2*float64(s.m*n*k), func() {
			gemm.SgemmFrom(2, false, true, s.m, n, k, 1, a, k, newIm2colSource(xs, g, s.images), 0, c, n)
		}, func() {
			d.gemmWeightGrad(s.m, k, 1, a, k, xs, g, 0, c, n)
		})
	}
}
