package gpu

import (
	"math"
	"testing"
)

// CPU twin of gpu/kernels/roi_align.cu (torchvision.ops.roi_align),
// computed in float32 in the kernel's order.

// roiBox returns the scaled box origin and size of roi (5 floats).
func roiBox(roi []float32, scale float32, aligned bool) (x1, y1, rw, rh float32) {
	var off float32
	if aligned {
		off = 0.5
	}
	x1, y1 = roi[1]*scale-off, roi[2]*scale-off
	x2, y2 := roi[3]*scale-off, roi[4]*scale-off
	rw, rh = x2-x1, y2-y1
	if !aligned {
		rw, rh = max(rw, 1), max(rh, 1)
	}
	return x1, y1, rw, rh
}

// bilinearTaps returns the four flat indices and weights of a sample, or
// ok=false when the sample is more than a pixel outside the map.
func bilinearTaps(h, w int, y, x float32) (idx [4]int, wt [4]float32, ok bool) {
	if y < -1 || y > float32(h) || x < -1 || x > float32(w) {
		return idx, wt, false
	}
	y, x = max(y, 0), max(x, 0)
	y0, x0 := int(y), int(x)
	var y1, x1 int
	if y0 >= h-1 {
		y0, y1, y = h-1, h-1, float32(h-1)
	} else {
		y1 = y0 + 1
	}
	if x0 >= w-1 {
		x0, x1, x = w-1, w-1, float32(w-1)
	} else {
		x1 = x0 + 1
	}
	ly, lx := y-float32(y0), x-float32(x0)
	hy, hx := 1-ly, 1-lx
	idx = [4]int{y0*w + x0, y0*w + x1, y1*w + x0, y1*w + x1}
	wt = [4]float32{hy * hx, hy * lx, ly * hx, ly * lx}
	return idx, wt, true
}

// roiGrid returns the sampling grid of a bin and the averaging count.
func roiGrid(rh, rw float32, g RoIAlignGeom) (gh, gw int, count float32) {
	gh, gw = g.SamplingRatio, g.SamplingRatio
	if g.SamplingRatio <= 0 {
		gh = int(math.Ceil(float64(rh / float32(g.PH))))
		gw = int(math.Ceil(float64(rw / float32(g.PW))))
	}
	return gh, gw, float32(max(gh*gw, 1))
}

// roiAlignVisit calls f for every bilinear sample of output element
// (k, c, ph, pw) with the plane offset and the sample's taps.
func roiAlignVisit(rois []float32, g RoIAlignGeom, k, ph, pw int, f func(idx [4]int, wt [4]float32)) float32 {
	roi := rois[k*5 : k*5+5]
	x1, y1, rw, rh := roiBox(roi, g.SpatialScale, g.Aligned)
	bh, bw := rh/float32(g.PH), rw/float32(g.PW)
	gh, gw, count := roiGrid(rh, rw, g)
	for iy := 0; iy < gh; iy++ {
		y := y1 + float32(ph)*bh + (float32(iy)+0.5)*bh/float32(gh)
		for ix := 0; ix < gw; ix++ {
			x := x1 + float32(pw)*bw + (float32(ix)+0.5)*bw/float32(gw)
			if idx, wt, ok := bilinearTaps(g.H, g.W, y, x); ok {
				f(idx, wt)
			}
		}
	}
	return count
}

func roiAlignFwdRef(out, input, rois []float32, g RoIAlignGeom) {
	for k := 0; k < g.K; k++ {
		b := int(rois[k*5])
		for c := 0; c < g.C; c++ {
			plane := input[(b*g.C+c)*g.H*g.W:]
			for ph := 0; ph < g.PH; ph++ {
				for pw := 0; pw < g.PW; pw++ {
					var sum float32
					count := roiAlignVisit(rois, g, k, ph, pw, func(idx [4]int, wt [4]float32) {
						sum += wt[0]*plane[idx[0]] + wt[1]*plane[idx[1]] + wt[2]*plane[idx[2]] + wt[3]*plane[idx[3]]
					})
					out[((k*g.C+c)*g.PH+ph)*g.PW+pw] = sum / count
				}
			}
		}
	}
}

// roiAlignBwdRef accumulates into dinput (the caller zeroes it).
func roiAlignBwdRef(dinput, dout, rois []float32, g RoIAlignGeom) {
	for k := 0; k < g.K; k++ {
		b := int(rois[k*5])
		for c := 0; c < g.C; c++ {
			plane := dinput[(b*g.C+c)*g.H*g.W:]
			for ph := 0; ph < g.PH; ph++ {
				for pw := 0; pw < g.PW; pw++ {
					d := dout[((k*g.C+c)*g.PH+ph)*g.PW+pw]
					// The count is known only after visiting; collect first.
					var taps [][2][4]float32
					count := roiAlignVisit(rois, g, k, ph, pw, func(idx [4]int, wt [4]float32) {
						var t [2][4]float32
						for i := range 4 {
							t[0][i], t[1][i] = float32(idx[i]), wt[i]
						}
						taps = append(taps, t)
					})
					gr := d / count
					for _, t := range taps {
						for i := range 4 {
							plane[int(t[0][i])] += gr * t[1][i]
						}
					}
				}
			}
		}
	}
}

// TestRoIAlignLinearInput: bilinear sampling is exact on a linear map, so
// each bin equals the map at the bin centre when every sample is inside.
func TestRoIAlignLinearInput(t *testing.T) {
	const h, w = 20, 30
	input := make([]float32, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			input[y*w+x] = 0.5*float32(y) + 0.25*float32(x) + 1
		}
	}
	for _, al := range []bool{false, true} {
		g := RoIAlignGeom{K: 1, C: 1, H: h, W: w, PH: 2, PW: 3, SpatialScale: 0.5, SamplingRatio: 2, Aligned: al}
		rois := []float32{0, 8, 6, 40, 30} // feature box (4,3)-(20,15), minus 0.5 when aligned
		out := make([]float32, 6)
		roiAlignFwdRef(out, input, rois, g)
		off := float32(0)
		if al {
			off = 0.5
		}
		x1, y1, bw, bh := 4-off, 3-off, float32(16)/3, float32(12)/2
		for ph := 0; ph < 2; ph++ {
			for pw := 0; pw < 3; pw++ {
				cy, cx := y1+(float32(ph)+0.5)*bh, x1+(float32(pw)+0.5)*bw
				want := 0.5*cy + 0.25*cx + 1
				if got := out[ph*3+pw]; math.Abs(float64(got-want)) > 1e-5 {
					t.Errorf("aligned=%v bin (%d,%d) = %v, want %v", al, ph, pw, got, want)
				}
			}
		}
	}
}

func TestRoIAlignAdjoint(t *testing.T) {
	for _, tc := range roiCases() {
		g := tc.g
		g.K, g.C = 9, 2
		input := randn(12, 2*g.C*g.H*g.W)
		rois := randomRoIs(g.K, 2, g.H, g.W, g.SpatialScale)
		out := make([]float32, g.OutSize())
		roiAlignFwdRef(out, input, rois, g)
		dout := randn(13, len(out))
		din := make([]float32, len(input))
		roiAlignBwdRef(din, dout, rois, g)
		if l, r := dot(out, dout), dot(input, din); math.Abs(l-r) > 1e-3*math.Max(1, math.Abs(l)) {
			t.Errorf("%s: <fwd x, dy> = %v, <x, bwd dy> = %v", tc.name, l, r)
		}
	}
}
