package gpu

import (
	"math"
	"slices"
	"testing"
)

// CPU twin of gpu/kernels/maxpool.cu.

func maxPoolFwdRef(y []float32, argmax []int32, x []float32, g PoolGeom) {
	oh, ow := g.OH(), g.OW()
	for p := 0; p < g.NC; p++ {
		plane := x[p*g.H*g.W:]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best, bi := float32(math.Inf(-1)), int32(-1)
				for kh := 0; kh < g.KH; kh++ {
					h := i*g.StrideH - g.PadH + kh
					if h < 0 || h >= g.H {
						continue
					}
					for kw := 0; kw < g.KW; kw++ {
						w := j*g.StrideW - g.PadW + kw
						if w < 0 || w >= g.W {
							continue
						}
						v := plane[h*g.W+w]
						if bi < 0 || v > best || (v != v && best == best) {
							best, bi = v, int32(h*g.W+w)
						}
					}
				}
				y[(p*oh+i)*ow+j], argmax[(p*oh+i)*ow+j] = best, bi
			}
		}
	}
}

// maxPoolBwdRef scatters each output gradient to its argmax.
func maxPoolBwdRef(dx, dy []float32, argmax []int32, g PoolGeom) {
	oh, ow := g.OH(), g.OW()
	clear(dx[:g.NC*g.H*g.W])
	for p := 0; p < g.NC; p++ {
		for o := 0; o < oh*ow; o++ {
			if a := argmax[p*oh*ow+o]; a >= 0 {
				dx[p*g.H*g.W+int(a)] += dy[p*oh*ow+o]
			}
		}
	}
}

func TestMaxPoolReference(t *testing.T) {
	g := PoolGeom{NC: 1, H: 4, W: 4, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	x := []float32{
		1, 2, 0, 0,
		3, 4, 0, 9,
		-1, -2, 5, 5,
		-3, -4, 5, 6,
	}
	y, am := make([]float32, 4), make([]int32, 4)
	maxPoolFwdRef(y, am, x, g)
	if want := []float32{4, 9, -1, 6}; !slices.Equal(y, want) {
		t.Errorf("y = %v, want %v", y, want)
	}
	if want := []int32{5, 7, 8, 15}; !slices.Equal(am, want) {
		t.Errorf("argmax = %v, want %v", am, want)
	}
	dx := make([]float32, 16)
	maxPoolBwdRef(dx, []float32{1, 2, 3, 4}, am, g)
	if dx[5] != 1 || dx[7] != 2 || dx[8] != 3 || dx[15] != 4 || dot(dx, dx) != 30 {
		t.Errorf("dx = %v", dx)
	}
}
