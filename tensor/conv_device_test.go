package tensor_test

import (
	"math"
	"testing"

	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// convLibDevice is a host device with a "convolution library": a direct
// convolution written from the definition, as cuDNN is to the GPU device.
// refuse makes every call report false, as a device without the library.
type convLibDevice struct {
	*tensortest.HostDevice
	refuse              bool
	fwd, bwdData, bwdFi int
}

// at returns x[n][c][h][w] of an [N,C,H,W] slice, 0 outside the image.
func at(x []float32, c, h, w, n, ci, hi, wi int) float32 {
	if hi < 0 || hi >= h || wi < 0 || wi >= w {
		return 0
	}
	return x[((n*c+ci)*h+hi)*w+wi]
}

// eachTap calls f for every (image, out channel, in channel, output pixel,
// kernel tap) with the input pixel the tap reads.
func eachTap(g tensor.ConvGeom, n, cout int, f func(in, oc, ic, oy, ox, ky, kx, iy, ix int)) {
	for i := 0; i < n; i++ {
		for oc := 0; oc < cout; oc++ {
			for ic := 0; ic < g.C; ic++ {
				for oy := 0; oy < g.OutH(); oy++ {
					for ox := 0; ox < g.OutW(); ox++ {
						for ky := 0; ky < g.KH; ky++ {
							for kx := 0; kx < g.KW; kx++ {
								iy := oy*g.StrideH - g.PadH + ky*g.DilationH
								ix := ox*g.StrideW - g.PadW + kx*g.DilationW
								f(i, oc, ic, oy, ox, ky, kx, iy, ix)
							}
						}
					}
				}
			}
		}
	}
}

func (d *convLibDevice) ConvForward(x, w tensor.Buffer, g tensor.ConvGeom, n, cout int, y tensor.Buffer) bool {
	if d.refuse {
		return false
	}
	d.fwd++
	xs, ws, ys := tensor.CPUData(x), tensor.CPUData(w), tensor.CPUData(y)
	clear(ys)
	eachTap(g, n, cout, func(in, oc, ic, oy, ox, ky, kx, iy, ix int) {
		ys[((in*cout+oc)*g.OutH()+oy)*g.OutW()+ox] += ws[((oc*g.C+ic)*g.KH+ky)*g.KW+kx] * at(xs, g.C, g.H, g.W, in, ic, iy, ix)
	})
	return true
}

func (d *convLibDevice) ConvBackwardData(w, dy tensor.Buffer, g tensor.ConvGeom, n, cout int, dx tensor.Buffer) bool {
	if d.refuse {
		return false
	}
	d.bwdData++
	ws, dys, dxs := tensor.CPUData(w), tensor.CPUData(dy), tensor.CPUData(dx)
	clear(dxs)
	eachTap(g, n, cout, func(in, oc, ic, oy, ox, ky, kx, iy, ix int) {
		if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
			dxs[((in*g.C+ic)*g.H+iy)*g.W+ix] += ws[((oc*g.C+ic)*g.KH+ky)*g.KW+kx] * dys[((in*cout+oc)*g.OutH()+oy)*g.OutW()+ox]
		}
	})
	return true
}

func (d *convLibDevice) ConvBackwardFilter(x, dy tensor.Buffer, g tensor.ConvGeom, n, cout int, dw tensor.Buffer) bool {
	if d.refuse {
		return false
	}
	d.bwdFi++
	xs, dys, dws := tensor.CPUData(x), tensor.CPUData(dy), tensor.CPUData(dw)
	clear(dws)
	eachTap(g, n, cout, func(in, oc, ic, oy, ox, ky, kx, iy, ix int) {
		dws[((oc*g.C+ic)*g.KH+ky)*g.KW+kx] += at(xs, g.C, g.H, g.W, in, ic, iy, ix) * dys[((in*cout+oc)*g.OutH()+oy)*g.OutW()+ox]
	})
	return true
}

// TestConv2dHandsTheBatchToAConvDevice: a device implementing ConvDevice
// gets the whole forward and both backward convolutions, and its results
// agree with the composed im2col + GEMM path; a device refusing them gets
// the composed path itself, bit for bit.
func TestConv2dHandsTheBatchToAConvDevice(t *testing.T) {
	cases := []struct {
		name              string
		n, c, h, w, co, k int
		opt               tensor.ConvOptions
	}{
		{"3x3 pad 1", 2, 3, 9, 7, 4, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
		{"stride 2", 3, 2, 11, 10, 5, 3, tensor.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
		{"dilated", 1, 2, 12, 12, 3, 3, tensor.ConvOptions{Padding: [2]int{2, 2}, Dilation: [2]int{2, 2}}},
		{"1x1", 2, 6, 5, 5, 4, 1, tensor.ConvOptions{}},
		{"large output, per image", 2, 2, 20, 20, 2, 3, tensor.ConvOptions{Padding: [2]int{1, 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(d tensor.Device) [4][]float32 {
				return tensortest.Conv2dPass(d, 3, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.opt)
			}
			want := run(tensor.NewCPU(1))
			lib := &convLibDevice{HostDevice: tensortest.NewHostDevice(1)}
			got := run(lib)
			if lib.fwd != 1 || lib.bwdData != 1 || lib.bwdFi != 1 {
				t.Fatalf("library calls: forward %d, backward data %d, backward filter %d; want 1 each", lib.fwd, lib.bwdData, lib.bwdFi)
			}
			refused := run(&convLibDevice{HostDevice: tensortest.NewHostDevice(1), refuse: true})
			for i, name := range []string{"y", "dx", "dw", "db"} {
				for j := range want[i] {
					if refused[i][j] != want[i][j] {
						t.Fatalf("refusing device: %s[%d] = %v, composed %v", name, j, refused[i][j], want[i][j])
					}
					if g, w := float64(got[i][j]), float64(want[i][j]); math.Abs(g-w) > 1e-5+1e-5*math.Abs(w) {
						t.Fatalf("library: %s[%d] = %v, composed %v", name, j, g, w)
					}
				}
			}
		})
	}
}

// TestConvTranspose2dRunsOnTheConvDevice: the transposed convolution is the
// adjoint convolution's three passes, so a ConvDevice runs each of them
// once and agrees with the composed path.
func TestConvTranspose2dRunsOnTheConvDevice(t *testing.T) {
	opt := tensor.ConvTransposeOptions{ConvOptions: tensor.ConvOptions{Stride: [2]int{2, 2}}}
	run := func(d tensor.Device) [4][]float32 { return tensortest.ConvTranspose2dPass(d, 5, 2, 3, 7, 6, 4, 2, opt) }
	want := run(tensor.NewCPU(1))
	lib := &convLibDevice{HostDevice: tensortest.NewHostDevice(1)}
	got := run(lib)
	if lib.fwd != 1 || lib.bwdData != 1 || lib.bwdFi != 1 {
		t.Fatalf("library calls: forward %d, backward data %d, backward filter %d; want 1 each", lib.fwd, lib.bwdData, lib.bwdFi)
	}
	for i, name := range []string{"y", "dx", "dw", "db"} {
		for j := range want[i] {
			if g, w := float64(got[i][j]), float64(want[i][j]); math.Abs(g-w) > 1e-5+1e-5*math.Abs(w) {
				t.Fatalf("library: %s[%d] = %v, composed %v", name, j, g, w)
			}
		}
	}
}
