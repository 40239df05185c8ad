package gpu

import (
	"fmt"
	"testing"
)

// The average pooling kernels (avgpool.cu) against their CPU twins: odd
// sizes, padding up to and beyond half the kernel (windows entirely in the
// padding), and adaptive windows that shrink, overlap and grow.

func TestGPUAvgPool(t *testing.T) {
	d := gpuDevice(t)
	geoms := []PoolGeom{
		{NC: 5, H: 9, W: 11, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{NC: 3, H: 8, W: 8, KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{NC: 2, H: 7, W: 10, KH: 3, KW: 2, StrideH: 1, StrideW: 3, PadH: 1},
		{NC: 2, H: 5, W: 6, KH: 4, KW: 4, StrideH: 3, StrideW: 3, PadH: 2, PadW: 2},
		{NC: 1, H: 4, W: 4, KH: 2, KW: 2, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2}, // all-padding corners
	}
	for gi, g := range geoms {
		name := fmt.Sprintf("%+v", g)
		x := randn(uint64(20+gi), g.NC*g.H*g.W)
		no := g.NC * g.OH() * g.OW()
		px, py := upload(t, d, x), alloc(t, d, no)
		if err := d.AvgPoolFwd(py, px, g); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, no)
		avgPoolFwdRef(y, x, g)
		checkClose(t, "avg pool "+name, download(t, d, py, no), y, 1e-6, 1e-6)

		dy := randn(uint64(40+gi), no)
		pdy, pdx := upload(t, d, dy), upload(t, d, randn(60, len(x))) // dx is overwritten
		if err := d.AvgPoolBwd(pdx, pdy, g); err != nil {
			t.Fatal(err)
		}
		dx := make([]float32, len(x))
		avgPoolBwdRef(dx, dy, g)
		checkClose(t, "avg pool backward "+name, download(t, d, pdx, len(x)), dx, 1e-6, 1e-6)
	}
}

func TestGPUAdaptiveAvgPool(t *testing.T) {
	d := gpuDevice(t)
	for i, s := range [][5]int{{3, 7, 9, 3, 4}, {2, 13, 13, 7, 7}, {4, 5, 5, 1, 1}, {2, 3, 5, 6, 7}, {1, 10, 1, 4, 1}} {
		nc, h, w, oh, ow := s[0], s[1], s[2], s[3], s[4]
		name := fmt.Sprintf("%dx%dx%d -> %dx%d", nc, h, w, oh, ow)
		x := randn(uint64(70+i), nc*h*w)
		px, py := upload(t, d, x), alloc(t, d, nc*oh*ow)
		if err := d.AdaptiveAvgPoolFwd(py, px, nc, h, w, oh, ow); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, nc*oh*ow)
		adaptiveAvgPoolFwdRef(y, x, nc, h, w, oh, ow)
		checkClose(t, "adaptive avg pool "+name, download(t, d, py, len(y)), y, 1e-7, 1e-6)

		dy := randn(uint64(80+i), len(y))
		pdy, pdx := upload(t, d, dy), upload(t, d, randn(90, len(x)))
		if err := d.AdaptiveAvgPoolBwd(pdx, pdy, nc, h, w, oh, ow); err != nil {
			t.Fatal(err)
		}
		dx := make([]float32, len(x))
		adaptiveAvgPoolBwdRef(dx, dy, nc, h, w, oh, ow)
		checkClose(t, "adaptive avg pool backward "+name, download(t, d, pdx, len(x)), dx, 1e-6, 1e-6)
	}
}
