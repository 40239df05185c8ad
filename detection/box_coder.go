package detection

import (
	"math"

	"github.com/detflow/detflow/tensor"
)

// DefaultWHRatioClip is MMDetection's wh_ratio_clip (16/1000): decoded dw and dh
// are clamped to +-log(1000/16) so that exp() cannot overflow.
const DefaultWHRatioClip = 16.0 / 1000.0

// BoxCoder encodes ground-truth boxes as deltas (dx, dy, dw, dh) relative to
// reference boxes and decodes them back: MMDetection's DeltaXYWHBBoxCoder
// (bbox2delta / delta2bbox) and torchvision's BoxCoder with
// weights = 1/Stds (10, 10, 5, 5 == stds 0.1, 0.1, 0.2, 0.2).
//
// Arithmetic is float64 and rounded to float32 at the end, which agrees with
// the float32 references to a few ulps.
//
// Difference to torchvision: torchvision clamps dw and dh only from above
// (exp(dw) <= 1000/16); MMDetection, and this coder, clamp both sides, so deltas
// below -log(1000/16) (boxes 62x smaller than their anchor) decode differently.
type BoxCoder struct {
	Means [4]float64
	Stds  [4]float64
	// WHRatioClip bounds |dw|, |dh| at |log(WHRatioClip)|; 0 means
	// DefaultWHRatioClip.
	WHRatioClip float64
	// Legacy selects MMDetection v0/v1's legacy_bbox2delta/legacy_delta2bbox:
	// widths x2-x1+1, decoded corners moved in by 0.5.
	Legacy bool
}

// RoIBoxCoder returns the coder of the Fast/Faster R-CNN bbox head: means 0,
// stds (0.1, 0.1, 0.2, 0.2).
func RoIBoxCoder() BoxCoder {
	return BoxCoder{Stds: [4]float64{0.1, 0.1, 0.2, 0.2}}
}

// RPNBoxCoder returns the coder of the RPN head: means 0, stds 1.
func RPNBoxCoder() BoxCoder {
	return BoxCoder{Stds: [4]float64{1, 1, 1, 1}}
}

func (c BoxCoder) maxRatio() float64 {
	r := c.WHRatioClip
	if r == 0 {
		r = DefaultWHRatioClip
	}
	return math.Abs(math.Log(r))
}

// Encode returns the N x 4 deltas that move each of the N reference boxes onto
// the corresponding gt box: ((gx-px)/pw, (gy-py)/ph, log(gw/pw), log(gh/ph)),
// normalised by (d - Means) / Stds.
func (c BoxCoder) Encode(ref, gt []float32) []float32 {
	n := NumBoxes(ref)
	if NumBoxes(gt) != n {
		tensor.Panicf("detection: encode: reference and gt box counts differ")
	}
	off := float64(pixelOffset(c.Legacy))
	out := make([]float32, 4*n)
	for i := 0; i < n; i++ {
		p, g := ref[4*i:4*i+4], gt[4*i:4*i+4]
		px, py := (float64(p[0])+float64(p[2]))*0.5, (float64(p[1])+float64(p[3]))*0.5
		pw, ph := float64(p[2])-float64(p[0])+off, float64(p[3])-float64(p[1])+off
		gx, gy := (float64(g[0])+float64(g[2]))*0.5, (float64(g[1])+float64(g[3]))*0.5
		gw, gh := float64(g[2])-float64(g[0])+off, float64(g[3])-float64(g[1])+off
		d := [4]float64{(gx - px) / pw, (gy - py) / ph, math.Log(gw / pw), math.Log(gh / ph)}
		for k := range d {
			out[4*i+k] = float32((d[k] - c.Means[k]) / c.Stds[k])
		}
	}
	return out
}

// Decode applies deltas to N reference boxes. deltas is N x 4K (K boxes per
// reference, e.g. one per class in the RoI head); the result is N x 4K boxes in
// the same layout. Boxes are not clipped; see DecodeClipped.
func (c BoxCoder) Decode(ref, deltas []float32) []float32 {
	n := NumBoxes(ref)
	if n == 0 {
		return []float32{}
	}
	if len(deltas)%(4*n) != 0 {
		tensor.Panicf("detection: decode: deltas are not N x 4K for the N reference boxes")
	}
	k := len(deltas) / (4 * n)
	maxRatio := c.maxRatio()
	off := float64(pixelOffset(c.Legacy))
	// Legacy decoding moves corners in by half a pixel: width gw covers
	// gw-1 coordinate units.
	half := off * 0.5
	out := make([]float32, len(deltas))
	for i := 0; i < n; i++ {
		p := ref[4*i : 4*i+4]
		px, py := (float64(p[0])+float64(p[2]))*0.5, (float64(p[1])+float64(p[3]))*0.5
		pw, ph := float64(p[2])-float64(p[0])+off, float64(p[3])-float64(p[1])+off
		for j := 0; j < k; j++ {
			o := 4 * (i*k + j)
			dx := float64(deltas[o])*c.Stds[0] + c.Means[0]
			dy := float64(deltas[o+1])*c.Stds[1] + c.Means[1]
			dw := float64(deltas[o+2])*c.Stds[2] + c.Means[2]
			dh := float64(deltas[o+3])*c.Stds[3] + c.Means[3]
			dw = min(max(dw, -maxRatio), maxRatio)
			dh = min(max(dh, -maxRatio), maxRatio)
			gw, gh := pw*math.Exp(dw), ph*math.Exp(dh)
			gx, gy := px+pw*dx, py+ph*dy
			out[o] = float32(gx - gw*0.5 + half)
			out[o+1] = float32(gy - gh*0.5 + half)
			out[o+2] = float32(gx + gw*0.5 - half)
			out[o+3] = float32(gy + gh*0.5 - half)
		}
	}
	return out
}

// DecodeClipped is Decode followed by ClipBoxes to a height x width image:
// delta2bbox with max_shape.
func (c BoxCoder) DecodeClipped(ref, deltas []float32, height, width int) []float32 {
	out := c.Decode(ref, deltas)
	ClipBoxes(out, height, width, c.Legacy)
	return out
}
