package tensor

import (
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/tensor/gemm"
)

// BenchmarkPaddedStrided times the forward GEMM of ResNet's 3x3 stride-2
// convs at 224, batch 2 ("packed": B packed from the images, "in-place":
// gemmPadded on the stride phases), and of ResNet-50's layer2 one on a
// 1333x800 image, where the phases go in bands and packing stays
// (paddedPays), on two workers.
func BenchmarkPaddedStrided(b *testing.B) {
	shapes := []struct {
		name               string
		images, c, h, w, m int
	}{
		{"64-128 56 (ResNet-18)", 2, 64, 56, 56, 128},
		{"128 56", 2, 128, 56, 56, 128},
		{"256 28", 2, 256, 28, 28, 256},
		{"512 14", 2, 512, 14, 14, 512},
		{"128 200x336", 1, 128, 200, 336, 128},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range shapes {
		g := ConvGeom{C: s.c, H: s.h, W: s.w, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}
		k, n := g.ColRows(), s.images*g.ColCols()
		xs, a, c := uniform(rng, s.images*g.C*g.H*g.W), uniform(rng, s.m*k), make([]float32, s.m*n)
		d := NewCPU(2)
		benchPackedInPlace(b, s.name, 2*float64(s.m*n*k), func() {
			gemm.SgemmFrom(2, false, false, s.m, n, k, 1, a, k, newIm2colSource(xs, g, s.images), 0, c, n)
		}, func() {
			d.gemmPadded(s.m, k, 1, a, k, xs, g, s.images, c, n)
		})
	}
}

// benchPackedInPlace runs packed and inPlace, two ways to one product of
// flops floating-point operations, as sub-benchmarks NAME/packed and
// NAME/in-place reporting GFLOP/s.
func benchPackedInPlace(b *testing.B, name string, flops float64, packed, inPlace func()) {
	for _, v := range []struct {
		name string
		run  func()
	}{{"packed", packed}, {"in-place", inPlace}} {
		b.Run(name+"/"+v.name, func(b *testing.B) {
			for b.Loop() {
				v.run()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// uniform returns n values uniform in [0, 1).
func uniform(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = rng.Float32()
	}
	return out
}
