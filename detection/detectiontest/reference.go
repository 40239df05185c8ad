// Package detectiontest holds slow, obvious reference implementations of the
// detection ops and a conformance suite that every implementation (the CPU one
// in package detection, a CUDA one later) runs against them.
//
// The references share no code with package detection on purpose: they are
// written straight from torchvision's definitions, one output value at a time,
// and do not import it, so detection's own tests can use them too.
package detectiontest

import "math"

// ReferenceNMS is greedy NMS written the slow way: repeatedly take the best
// remaining box (lowest index among equal scores), then drop every remaining
// box whose IoU with it is > iouThr. IoU uses float32 arithmetic as
// torchvision; legacy adds 1 to widths and heights.
func ReferenceNMS(boxes, scores []float32, iouThr float64, legacy bool) []int {
	remaining := make([]int, len(scores))
	for i := range remaining {
		remaining[i] = i
	}
	keep := []int{}
	for len(remaining) > 0 {
		best := 0
		for k, i := range remaining {
			if scores[i] > scores[remaining[best]] {
				best = k
			}
		}
		b := remaining[best]
		keep = append(keep, b)
		var next []int
		for _, i := range remaining {
			if i != b && float64(pairIoU(boxes[4*b:4*b+4], boxes[4*i:4*i+4], legacy)) <= iouThr {
				next = append(next, i)
			}
		}
		remaining = next
	}
	return keep
}

func pairIoU(a, b []float32, legacy bool) float32 {
	var off float32
	if legacy {
		off = 1
	}
	w := min(a[2], b[2]) - max(a[0], b[0]) + off
	h := min(a[3], b[3]) - max(a[1], b[1]) + off
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := float32(w * h)
	areaA := (a[2] - a[0] + off) * (a[3] - a[1] + off)
	areaB := (b[2] - b[0] + off) * (b[3] - b[1] + off)
	return inter / float32(areaA+areaB-inter)
}

// RoIAlignParams mirrors torchvision.ops.roi_align's arguments.
type RoIAlignParams struct {
	OutH, OutW    int
	SpatialScale  float64
	SamplingRatio int
	Aligned       bool
}

// roiSamples returns the sampling points of bin (ph, pw) of a RoI as
// torchvision's CPU kernel computes them (float32), and the divisor.
func roiSamples(roi []float32, p RoIAlignParams, ph, pw int) (ys, xs []float32, count float32) {
	off := 0.0
	if p.Aligned {
		off = 0.5
	}
	x1 := float32(float64(roi[1])*p.SpatialScale - off)
	y1 := float32(float64(roi[2])*p.SpatialScale - off)
	x2 := float32(float64(roi[3])*p.SpatialScale - off)
	y2 := float32(float64(roi[4])*p.SpatialScale - off)
	rw, rh := x2-x1, y2-y1
	if !p.Aligned {
		rw, rh = max(rw, 1), max(rh, 1)
	}
	bh, bw := rh/float32(p.OutH), rw/float32(p.OutW)
	gh, gw := p.SamplingRatio, p.SamplingRatio
	if gh <= 0 {
		gh = int(math.Ceil(float64(rh / float32(p.OutH))))
		gw = int(math.Ceil(float64(rw / float32(p.OutW))))
	}
	for iy := 0; iy < gh; iy++ {
		for ix := 0; ix < gw; ix++ {
			ys = append(ys, y1+float32(ph)*bh+float32(float32(iy)+0.5)*bh/float32(gh))
			xs = append(xs, x1+float32(pw)*bw+float32(float32(ix)+0.5)*bw/float32(gw))
		}
	}
	return ys, xs, float32(gh * gw)
}

// bilinear returns the four pixels and weights of point (y, x) on an h x w
// map with torchvision's border rules; ok is false more than a pixel outside.
func bilinear(y, x float32, h, w int) (pos [4]int, wt [4]float32, ok bool) {
	if y < -1 || y > float32(h) || x < -1 || x > float32(w) {
		return pos, wt, false
	}
	y, x = max(y, 0), max(x, 0)
	y0, x0 := int(y), int(x)
	y1, x1 := y0+1, x0+1
	if y0 >= h-1 {
		y0, y1, y = h-1, h-1, float32(h-1)
	}
	if x0 >= w-1 {
		x0, x1, x = w-1, w-1, float32(w-1)
	}
	ly, lx := y-float32(y0), x-float32(x0)
	hy, hx := 1-ly, 1-lx
	return [4]int{y0*w + x0, y0*w + x1, y1*w + x0, y1*w + x1}, [4]float32{hy * hx, hy * lx, ly * hx, ly * lx}, true
}

// ReferenceRoIAlign computes roi_align one output value at a time. data is
// n x c x h x w, rois R x 5; the result is R x c x OutH x OutW.
func ReferenceRoIAlign(data []float32, n, c, h, w int, rois []float32, p RoIAlignParams) []float32 {
	var out []float32
	for r := 0; r < len(rois)/5; r++ {
		roi := rois[5*r : 5*r+5]
		b := int(roi[0])
		for ch := 0; ch < c; ch++ {
			plane := data[(b*c+ch)*h*w : (b*c+ch+1)*h*w]
			for ph := 0; ph < p.OutH; ph++ {
				for pw := 0; pw < p.OutW; pw++ {
					ys, xs, count := roiSamples(roi, p, ph, pw)
					var acc float32
					for s := range ys {
						pos, wt, ok := bilinear(ys[s], xs[s], h, w)
						if ok {
							acc += wt[0]*plane[pos[0]] + wt[1]*plane[pos[1]] + wt[2]*plane[pos[2]] + wt[3]*plane[pos[3]]
						}
					}
					out = append(out, acc/max(count, 1))
				}
			}
		}
	}
	return out
}

// ReferenceRoIAlignBackward scatters gradOut (R x c x OutH x OutW) back onto an
// n x c x h x w gradient in torchvision's order (RoI, channel, bin, sample).
func ReferenceRoIAlignBackward(gradOut []float32, n, c, h, w int, rois []float32, p RoIAlignParams) []float32 {
	grad := make([]float32, n*c*h*w)
	k := 0
	for r := 0; r < len(rois)/5; r++ {
		roi := rois[5*r : 5*r+5]
		b := int(roi[0])
		for ch := 0; ch < c; ch++ {
			plane := grad[(b*c+ch)*h*w : (b*c+ch+1)*h*w]
			for ph := 0; ph < p.OutH; ph++ {
				for pw := 0; pw < p.OutW; pw++ {
					g := gradOut[k]
					k++
					ys, xs, count := roiSamples(roi, p, ph, pw)
					for s := range ys {
						pos, wt, ok := bilinear(ys[s], xs[s], h, w)
						if !ok {
							continue
						}
						for q := 0; q < 4; q++ {
							plane[pos[q]] += g * wt[q] / count
						}
					}
				}
			}
		}
	}
	return grad
}
