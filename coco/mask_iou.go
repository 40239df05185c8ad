package coco

import (
	"fmt"
	"sync"
)

// MaskIoU is maskApi's rleIou for one pair: intersection over union of two
// masks, or over the detection's area when gt is a crowd region. As in
// pycocotools the boxes (RLE.BBox) are compared first: masks whose boxes
// do not overlap score 0 without a look at their runs, and overlapping
// ones of different sizes score -1 (never a match).
func MaskIoU(dt, gt RLE, crowd bool) float64 {
	return maskIoU(&dt, &gt, dt.BBox(), gt.BBox(), crowd)
}

// maskIoU is MaskIoU with both boxes already computed.
func maskIoU(dt, gt *RLE, dtBox, gtBox Box, crowd bool) float64 {
	if o := boxIoU(dtBox, gtBox, crowd); !(o > 0) {
		return o
	}
	if dt.H != gt.H || dt.W != gt.W {
		return -1
	}
	i, u := runOverlap(dt.Counts, gt.Counts)
	if i == 0 {
		return 0
	}
	if crowd {
		u = dt.Area()
	}
	return float64(i) / float64(u)
}

// runOverlap walks both run lists at once and counts the pixels set in
// both (i) and in either (u), in uint32 as rleIou does.
func runOverlap(a, b []uint32) (i, u uint32) {
	ca, cb := first(a), first(b)
	va, vb := false, false
	ka, kb := 1, 1
	for ct := uint32(1); ct > 0; {
		c := min(ca, cb)
		if va || vb {
			u += c
			if va && vb {
				i += c
			}
		}
		ca -= c
		if ca == 0 && ka < len(a) {
			ca, va, ka = a[ka], !va, ka+1
		}
		cb -= c
		if cb == 0 && kb < len(b) {
			cb, vb, kb = b[kb], !vb, kb+1
		}
		ct = ca + cb
	}
	return i, u
}

// maskScratch holds one category's decoded detection masks; pooled so the
// hot path allocates nothing once warm.
type maskScratch struct {
	counts []uint32 // every mask's counts, one after another
	ends   []int    // where each mask's counts end
	masks  []RLE
	boxes  []Box
}

var maskScratchPool = sync.Pool{New: func() any { return new(maskScratch) }}

// maskIoUs is computeIoU for segm. A detection without a mask is its box
// rasterised at the image's size, as loadRes gives a box result the
// polygon of its corners.
func maskIoUs(img imageSize, dts []Detection, gts []gtObject, ious []float64) error {
	if len(gts) == 0 {
		return nil
	}
	s := maskScratchPool.Get().(*maskScratch)
	defer maskScratchPool.Put(s)
	s.counts, s.ends, s.masks, s.boxes = s.counts[:0], s.ends[:0], s.masks[:0], s.boxes[:0]
	for _, d := range dts {
		start := len(s.counts)
		r, err := detectionMask(img, &d, s.counts)
		if err != nil {
			return fmt.Errorf("detection %d: segmentation: %w", d.ID, err)
		}
		s.counts = r.Counts
		r.Counts = r.Counts[start:]
		s.masks = append(s.masks, r)
		s.boxes = append(s.boxes, r.BBox())
		s.ends = append(s.ends, len(s.counts))
	}
	// The buffer may have moved while growing: point each mask into it now.
	start := 0
	for k, end := range s.ends {
		s.masks[k].Counts = s.counts[start:end:end]
		start = end
	}
	G := len(gts)
	for d := range dts {
		for g := range gts {
			ious[d*G+g] = maskIoU(&s.masks[d], gts[g].mask, s.boxes[d], gts[g].maskBox, gts[g].crowd)
		}
	}
	return nil
}

// detectionMask decodes d's mask, appending its counts to buf; the
// returned RLE's Counts is the whole extended buffer.
func detectionMask(img imageSize, d *Detection, buf []uint32) (RLE, error) {
	if d.Segmentation.IsZero() {
		if img.h <= 0 || img.w <= 0 {
			return RLE{}, fmt.Errorf("missing, and its image has no size to rasterise the box at")
		}
		b := d.BBox
		xe, ye := b[0]+b[2], b[1]+b[3]
		r, err := rasterise([]float64{b[0], b[1], b[0], ye, xe, ye, xe, b[1]}, img.h, img.w)
		if err != nil {
			return RLE{}, fmt.Errorf("missing, and its box: %w", err)
		}
		return RLE{H: r.H, W: r.W, Counts: append(buf, r.Counts...)}, nil
	}
	c := d.Segmentation
	counts, err := appendRLECounts(buf, c.Counts)
	if err != nil {
		return RLE{}, err
	}
	if err := (RLE{H: c.H, W: c.W, Counts: counts[len(buf):]}).Validate(); err != nil {
		return RLE{}, err
	}
	return RLE{H: c.H, W: c.W, Counts: counts}, nil
}

// gtMask is annToRLE for an evaluator's ground truth: the loaded mask and
// its box (rleToBbox), computed once.
func gtMask(a *Annotation) (*RLE, Box, error) {
	if a.Segmentation == nil {
		return nil, Box{}, fmt.Errorf("annotation %d: no segmentation (load the ground truth with LoadDatasetMasks)", a.ID)
	}
	if err := a.Segmentation.Validate(); err != nil {
		return nil, Box{}, fmt.Errorf("annotation %d: segmentation: %w", a.ID, err)
	}
	return a.Segmentation, a.Segmentation.BBox(), nil
}
