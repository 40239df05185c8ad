package gpu

import (
	"math"
	"testing"
)

// CPU twin of gpu/kernels/upsample.cu.

// upsampleFwdRef and upsampleBwdRef are nearest upsampling by s over NC
// planes of H×W; the backward sums each s×s block row by row.
func upsampleFwdRef(y, x []float32, nc, h, w, s int) {
	oh, ow := s*h, s*w
	for p := 0; p < nc; p++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				y[(p*oh+i)*ow+j] = x[(p*h+i/s)*w+j/s]
			}
		}
	}
}

func upsampleBwdRef(dx, dy []float32, nc, h, w, s int) {
	ow := s * w
	for p := 0; p < nc; p++ {
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				var sum float32
				for a := 0; a < s; a++ {
					for b := 0; b < s; b++ {
						sum += dy[(p*s*h+s*i+a)*ow+s*j+b]
					}
				}
				dx[(p*h+i)*w+j] = sum
			}
		}
	}
}

func TestUpsampleAdjoint(t *testing.T) {
	const nc, h, w = 3, 5, 7
	for _, s := range []int{1, 2, 3} {
		x, dy := randn(4, nc*h*w), randn(5, s*s*nc*h*w)
		y, dx := make([]float32, len(dy)), make([]float32, len(x))
		upsampleFwdRef(y, x, nc, h, w, s)
		upsampleBwdRef(dx, dy, nc, h, w, s)
		if l, r := dot(y, dy), dot(x, dx); math.Abs(l-r) > 1e-3 {
			t.Errorf("scale %d: <up x, dy> = %v, <x, up* dy> = %v", s, l, r)
		}
	}
}
