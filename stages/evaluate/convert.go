package evaluate

import (
	"fmt"
	"math"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/records"
)

// labelCategories maps the model's contiguous labels back to COCO category
// ids through the records index.
func labelCategories(ix *records.Index) map[int32]int64 {
	m := make(map[int32]int64, len(ix.Categories))
	for _, c := range ix.Categories {
		m[c.Label] = c.ID
	}
	return m
}

// convert turns one image's predictions into detections table rows and
// the COCO detections evaluated from them: labels to category ids, xyxy to
// xywh, masks (in the original image's frame, it.OrigW x it.OrigH) to
// compressed RLE strings. Each detection's ID is its 1-based position in
// the image's list, which is the order the results file keeps within the
// image: COCOeval breaks score ties by file order, and only the order
// within an image matters, so evaluating these detections here gives what
// evaluating the written file gives. Iou type segm needs masks.
func convert(it *batch.Item, d *detection.Detections, kind string, cats map[int32]int64) ([]coco.Detection, []schemas.Detection, error) {
	if err := d.Check(); err != nil {
		return nil, nil, err
	}
	if coco.IoUType(kind) == coco.Segm && d.Masks == nil {
		return nil, nil, fmt.Errorf("iou type segm: the model returned no instance masks (a model without a mask head)")
	}
	n := d.Len()
	dets := make([]coco.Detection, n)
	rows := make([]schemas.Detection, n)
	for i := range n {
		label := int32(0)
		if d.Labels != nil {
			label = d.Labels[i]
		}
		cat, ok := cats[label]
		if !ok {
			return nil, nil, fmt.Errorf("box %d: label %d is not one of the %d classes of the records index", i, label, len(cats))
		}
		b := d.Boxes[4*i : 4*i+4]
		// Widths in float32, as the detections table stores them; the
		// results file carries the same values.
		x, y, w, h := b[0], b[1], b[2]-b[0], b[3]-b[1]
		s := d.Scores[i]
		if !finite32(x, y, w, h, s) || w < 0 || h < 0 {
			return nil, nil, fmt.Errorf("box %d: xyxy %v score %v is not a finite box with x2 >= x1 and y2 >= y1", i, b, s)
		}
		rows[i] = schemas.Detection{ImageID: it.ImageID, CategoryID: cat, Label: label, Score: s, X: x, Y: y, W: w, H: h, IoUType: kind}
		if d.Masks != nil {
			if err := setMask(&rows[i], d.Masks[i], it); err != nil {
				return nil, nil, fmt.Errorf("box %d: %w", i, err)
			}
		}
		dets[i] = detectionOf(rows[i], int64(i+1))
	}
	return dets, rows, nil
}

// setMask puts a detection's mask into its row, refusing one that is not
// an RLE of the original image's size.
func setMask(r *schemas.Detection, m coco.RLE, it *batch.Item) error {
	if m.H != it.OrigH || m.W != it.OrigW {
		return fmt.Errorf("mask of %dx%d pixels, the image is %dx%d (masks are pasted into the original image)", m.W, m.H, it.OrigW, it.OrigH)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("mask: %w", err)
	}
	r.Mask, r.MaskHeight, r.MaskWidth = m.String(), int32(m.H), int32(m.W)
	return nil
}

func finite32(vs ...float32) bool {
	for _, v := range vs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// detectionOf is the COCO detection of a table row; id is its 1-based row
// in the results file. Area is the box's, as loadRes takes it from a file
// whose rows all have boxes (segm files included).
func detectionOf(r schemas.Detection, id int64) coco.Detection {
	box := coco.Box{float64(r.X), float64(r.Y), float64(r.W), float64(r.H)}
	d := coco.Detection{ID: id, ImageID: r.ImageID, CategoryID: r.CategoryID, BBox: box, Score: float64(r.Score), Area: box.Area()}
	if r.Mask != "" {
		d.Segmentation = coco.CompressedRLE{H: int(r.MaskHeight), W: int(r.MaskWidth), Counts: r.Mask}
	}
	return d
}
