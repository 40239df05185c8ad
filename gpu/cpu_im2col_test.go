package gpu

import (
	"math"
	"slices"
	"testing"
)

// CPU twin of gpu/kernels/im2col.cu.

func im2colRef(col, im []float32, g ConvGeom) {
	oh, ow := g.OH(), g.OW()
	i := 0
	for c := 0; c < g.C; c++ {
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				for y := 0; y < oh; y++ {
					for x := 0; x < ow; x++ {
						h := y*g.StrideH - g.PadH + kh*g.DilH
						w := x*g.StrideW - g.PadW + kw*g.DilW
						var v float32
						if h >= 0 && h < g.H && w >= 0 && w < g.W {
							v = im[(c*g.H+h)*g.W+w]
						}
						col[i] = v
						i++
					}
				}
			}
		}
	}
}

// col2imRef overwrites im with the sum of the column entries reading each
// pixel, scattering in the same (kh, kw) order as the kernel gathers.
func col2imRef(im, col []float32, g ConvGeom) {
	oh, ow := g.OH(), g.OW()
	clear(im[:g.C*g.H*g.W])
	for c := 0; c < g.C; c++ {
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				row := (c*g.KH+kh)*g.KW + kw
				for y := 0; y < oh; y++ {
					for x := 0; x < ow; x++ {
						h := y*g.StrideH - g.PadH + kh*g.DilH
						w := x*g.StrideW - g.PadW + kw*g.DilW
						if h >= 0 && h < g.H && w >= 0 && w < g.W {
							im[(c*g.H+h)*g.W+w] += col[(row*oh+y)*ow+x]
						}
					}
				}
			}
		}
	}
}

// TestIm2colAdjoint: <im2col(x), y> == <x, col2im(y)> for every geometry.
func TestIm2colAdjoint(t *testing.T) {
	for _, g := range []ConvGeom{
		{C: 2, H: 7, W: 6, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1},
		{C: 3, H: 11, W: 9, KH: 7, KW: 5, PadH: 3, PadW: 2, StrideH: 2, StrideW: 3, DilH: 1, DilW: 1},
		{C: 1, H: 10, W: 10, KH: 3, KW: 3, PadH: 2, PadW: 2, StrideH: 1, StrideW: 1, DilH: 2, DilW: 2},
	} {
		x, y := randn(1, g.C*g.H*g.W), randn(2, g.ColSize())
		col, im := make([]float32, g.ColSize()), make([]float32, len(x))
		im2colRef(col, x, g)
		col2imRef(im, y, g)
		if l, r := dot(col, y), dot(x, im); math.Abs(l-r) > 1e-3*math.Abs(l)+1e-3 {
			t.Errorf("%+v: <im2col x, y> = %v, <x, col2im y> = %v", g, l, r)
		}
	}
	// A 1x1 kernel at stride 1 is the identity.
	g := ConvGeom{C: 2, H: 3, W: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	x := randn(3, 24)
	col := make([]float32, 24)
	im2colRef(col, x, g)
	if !slices.Equal(col, x) {
		t.Error("1x1 im2col is not the identity")
	}
}
