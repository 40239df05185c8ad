package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestTorchConvTranspose2d(t *testing.T) {
	forCases(t, "conv_transpose2d", func(c fixtureCase) {
		var opt ConvTransposeOptions
		c.param("stride", &opt.Stride)
		c.param("padding", &opt.Padding)
		c.param("output_padding", &opt.OutputPadding)
		c.param("dilation", &opt.Dilation)
		c.checkConv(func(x, w, b *Tensor) *Tensor { return ConvTranspose2d(x, w, b, opt) })
	})
}

func TestGradConvTranspose2d(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	s2 := [2]int{2, 2}
	tests := []struct {
		n, c, h, w, cout, k int
		opt                 ConvTransposeOptions
	}{
		{2, 3, 3, 4, 2, 2, ConvTransposeOptions{ConvOptions: ConvOptions{Stride: s2}}},
		{1, 2, 4, 3, 3, 3, ConvTransposeOptions{ConvOptions: ConvOptions{Stride: s2, Padding: [2]int{1, 1}}, OutputPadding: [2]int{1, 0}}},
		{1, 2, 4, 4, 2, 3, ConvTransposeOptions{ConvOptions: ConvOptions{Dilation: s2, Padding: [2]int{1, 1}}}},
		// Large enough for per-image GEMMs in the adjoint convolution.
		{2, 2, 9, 9, 2, 2, ConvTransposeOptions{ConvOptions: ConvOptions{Stride: s2}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			gradCheck(t, func(xs []*Tensor) *Tensor { return ConvTranspose2d(xs[0], xs[1], xs[2], tc.opt) },
				randInput(rng, -1, 1, tc.n, tc.c, tc.h, tc.w),
				randInput(rng, -1, 1, tc.c, tc.cout, tc.k, tc.k),
				randInput(rng, -1, 1, tc.cout))
		})
	}
}

func TestConvTranspose2dRejectsSizesNoConvolutionMapsBack(t *testing.T) {
	e := NewEngine(NewCPU(0))
	x, w := e.Zeros(1, 2, 3, 3), e.Zeros(2, 1, 2, 2)
	for _, opt := range []ConvTransposeOptions{
		{ConvOptions: ConvOptions{Stride: [2]int{2, 2}}, OutputPadding: [2]int{2, 0}},
		{ConvOptions: ConvOptions{Padding: [2]int{3, 3}}},
	} {
		var err error
		func() {
			defer Recover(&err, "conv transpose")
			ConvTranspose2d(x, w, nil, opt)
		}()
		if err == nil {
			t.Errorf("options %+v: no error", opt)
		}
	}
}
