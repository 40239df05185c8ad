package tensor_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// convBenchShape is one convolution of the benchmarks below: n images of
// c×h×w through co k×k filters with stride strd and "same" padding.
type convBenchShape struct {
	name                    string
	n, c, h, w, co, k, strd int
}

// BenchmarkConvR50Shapes times a convolution's forward pass and its weight
// gradient (frozen input, as the first layer of a trainable stage) on
// R-50-FPN shapes at 1333x800, with the column matrix written out
// ("stored": Im2col then Gemm) and packed from the image ("packed"), on 2
// workers.
func BenchmarkConvR50Shapes(b *testing.B) {
	for _, s := range []convBenchShape{
		{"stem 7x7 s2", 1, 3, 800, 1344, 64, 7, 2},
		{"layer1 3x3", 1, 64, 200, 336, 64, 3, 1},
		{"layer2 3x3 s2", 1, 128, 200, 336, 128, 3, 2},
		{"head 3x3 P3", 1, 256, 100, 168, 256, 3, 1},
	} {
		benchConvBackward(b, s, false)
	}
}

// BenchmarkConvDataGrad times a convolution's forward pass and its input
// gradient (frozen weight) on ResNet shapes at batch 2x3x224x224, with the
// column matrix written out and scattered back ("stored": Gemm then
// Col2im) and without it ("packed": dcol a tile of columns at a time), on
// 2 workers.
func BenchmarkConvDataGrad(b *testing.B) {
	for _, s := range []convBenchShape{
		{"layer1 3x3", 2, 64, 56, 56, 64, 3, 1},
		{"layer2 3x3", 2, 128, 28, 28, 128, 3, 1},
		{"layer2 3x3 s2", 2, 128, 56, 56, 128, 3, 2},
		{"layer3 3x3 batched", 2, 256, 14, 14, 256, 3, 1},
		{"layer4 3x3 batched", 2, 512, 7, 7, 512, 3, 1},
		{"FPN 3x3 P3", 1, 256, 100, 168, 256, 3, 1},
	} {
		benchConvBackward(b, s, true)
	}
}

// benchConvBackward runs s's forward and backward pass on the stored and
// packed CPUs as sub-benchmarks "NAME/stored" and "NAME/packed": the input
// gradient when dataGrad is set, else the weight gradient.
func benchConvBackward(b *testing.B, s convBenchShape, dataGrad bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 { return centered(rng, n) }
	xd, wd := rnd(s.n*s.c*s.h*s.w), rnd(s.co*s.c*s.k*s.k)
	opt := tensor.ConvOptions{Stride: [2]int{s.strd, s.strd}, Padding: [2]int{s.k / 2, s.k / 2}}
	for _, dev := range []struct {
		name string
		d    tensor.Device
	}{{"stored", storedColsCPU{tensor.NewCPU(2)}}, {"packed", tensor.NewCPU(2)}} {
		e := tensor.NewEngine(dev.d)
		b.Run(fmt.Sprintf("%s/%s", s.name, dev.name), func(b *testing.B) {
			for b.Loop() {
				x := e.FromData(xd, s.n, s.c, s.h, s.w).SetRequiresGrad(dataGrad)
				w := e.FromData(wd, s.co, s.c, s.k, s.k).SetRequiresGrad(!dataGrad)
				tensor.Sum(tensor.Conv2d(x, w, nil, opt)).Backward()
				e.ReleaseAll()
			}
		})
	}
}

// centered returns n values uniform in [-0.5, 0.5).
func centered(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = rng.Float32() - 0.5
	}
	return out
}
