package detector

import (
	"fmt"

	"github.com/detflow/detflow/coco"
)

// Paste modes: how a detection's S x S mask probabilities become a mask of
// the original image.
const (
	// PasteMMDet is MMDetection v0/v1's get_seg_masks: the box truncated to
	// integers, the probabilities resized to its +1-inclusive size,
	// thresholded and placed at its corner.
	PasteMMDet = "mmdet"
	// PasteTorchvision is torchvision's (and Detectron's)
	// paste_masks_in_image: the mask padded by one zero pixel on each side
	// and the box widened to match before the same steps, so the mask's
	// edge is interpolated towards 0 rather than replicated.
	PasteTorchvision = "torchvision"
)

// paster pastes one image's detection masks into its original h x w frame,
// reusing one image-sized buffer.
type paster struct {
	mode string
	thr  float32 // a pixel is inside when its probability is above thr
	h, w int
	buf  []byte // column-major h x w
}

func newPaster(mode string, thr float32, h, w int) (*paster, error) {
	if err := checkPasteMode(mode); err != nil {
		return nil, err
	}
	return &paster{mode: mode, thr: thr, h: h, w: w, buf: make([]byte, h*w)}, nil
}

func checkPasteMode(mode string) error {
	if mode != PasteMMDet && mode != PasteTorchvision {
		return fmt.Errorf("mask paste mode %q: want %q or %q", mode, PasteMMDet, PasteTorchvision)
	}
	return nil
}

// paste returns the RLE of the s x s probabilities probs placed in box
// (x1, y1, x2, y2, original pixels).
func (p *paster) paste(probs []float32, s int, box []float32) coco.RLE {
	src, n := probs, s
	var b [4]int
	if p.mode == PasteTorchvision {
		src, n = padMask(probs, s), s+2
		b = expandBox(box, float32(n)/float32(s))
	} else {
		b = [4]int{int(box[0]), int(box[1]), int(box[2]), int(box[3])}
	}
	bw, bh := max(b[2]-b[0]+1, 1), max(b[3]-b[1]+1, 1)
	m := resizeBilinear(src, n, n, bh, bw)
	x0, x1 := min(max(b[0], 0), p.w), min(b[0]+bw, p.w)
	y0, y1 := min(max(b[1], 0), p.h), min(b[1]+bh, p.h)
	for x := x0; x < x1; x++ {
		col := p.buf[x*p.h:]
		for y := y0; y < y1; y++ {
			if m[(y-b[1])*bw+x-b[0]] > p.thr {
				col[y] = 1
			}
		}
	}
	r := p.encode(x0, max(x1, x0))
	for x := x0; x < x1; x++ {
		clear(p.buf[x*p.h+y0 : x*p.h+max(y1, y0)])
	}
	return r
}

// encode is coco.EncodeMask of the buffer, which is zero outside columns
// x0..x1-1: only those are scanned, the rest join the first and last runs
// of zeros (an image-sized scan per detection would cost more than the
// paste).
func (p *paster) encode(x0, x1 int) coco.RLE {
	r := coco.EncodeMask(p.buf[x0*p.h:x1*p.h], p.h, x1-x0)
	r.W = p.w
	r.Counts[0] += uint32(x0 * p.h)
	if tail := uint32((p.w - x1) * p.h); tail > 0 {
		if n := len(r.Counts); n%2 == 1 { // the last run is of zeros
			r.Counts[n-1] += tail
		} else {
			r.Counts = append(r.Counts, tail)
		}
	}
	return r
}

// padMask surrounds an s x s map with one zero pixel on each side.
func padMask(m []float32, s int) []float32 {
	out := make([]float32, (s+2)*(s+2))
	for y := 0; y < s; y++ {
		copy(out[(y+1)*(s+2)+1:], m[y*s:(y+1)*s])
	}
	return out
}

// expandBox scales a box about its centre by scale and truncates the
// corners towards zero, in float32 as torchvision's expand_boxes.
func expandBox(box []float32, scale float32) [4]int {
	wh := (box[2] - box[0]) * 0.5 * scale
	hh := (box[3] - box[1]) * 0.5 * scale
	xc := (box[2] + box[0]) * 0.5
	yc := (box[3] + box[1]) * 0.5
	return [4]int{int(xc - wh), int(yc - hh), int(xc + wh), int(yc + hh)}
}
