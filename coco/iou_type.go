package coco

import "fmt"

// IoUType is what detections are compared with ground truth by, as
// pycocotools' iouType, and the prefix of the metric names. Proposal is
// not an iouType of pycocotools but its usual recall set-up (bbox with
// useCats=0 and maxDets 100/300/1000), named here so that one string picks
// the whole evaluation.
type IoUType string

const (
	BBox     IoUType = "bbox"     // boxes, per category: COCOeval(iouType="bbox")
	Proposal IoUType = "proposal" // boxes, class-agnostic recall (RPN, precomputed proposals)
	Segm     IoUType = "segm"     // RLE masks, per category: COCOeval(iouType="segm")
)

// IoUTypes lists the supported types.
func IoUTypes() []IoUType { return []IoUType{BBox, Proposal, Segm} }

// imageSize is an image's height and width, at which loadRes rasterises
// the box of a result without a mask.
type imageSize struct{ h, w int }

// iouSpec is everything COCOeval does differently per iouType; matching,
// accumulate and summarize are shared.
type iouSpec struct {
	useCats bool  // Params default; false for class-agnostic recall
	maxDets []int // Params default
	// computeIoU is COCOeval.computeIoU: ious[d*G+g] for one image and
	// category (already score-sorted and capped), crowd rule included. It
	// fails only on a detection it cannot read (a broken mask).
	computeIoU func(img imageSize, dts []Detection, gts []gtObject, ious []float64) error
	// dtArea is the area loadRes gives a detection, which area ranges test
	// (ground truth always uses its "area" field).
	dtArea func(d *Detection) float64
	// rows names and orders the metrics (Result.Rows).
	rows func(r *Result) []Metric
	// masks: ground truth needs its segmentation as an RLE (annToRLE).
	masks bool
}

// spec returns the behaviour of type t, or an error naming the known types.
func (t IoUType) spec() (iouSpec, error) {
	bbox := iouSpec{useCats: true, maxDets: []int{1, 10, 100}, computeIoU: boxIoUs, dtArea: boxArea, rows: detectionRows}
	switch t {
	case BBox:
		return bbox, nil
	case Proposal:
		p := bbox
		p.useCats, p.maxDets, p.rows = false, []int{100, 300, 1000}, proposalRows
		return p, nil
	case Segm:
		// loadRes's area: the mask's, or the box's when the file has boxes.
		m := bbox
		m.computeIoU, m.dtArea, m.masks = maskIoUs, func(d *Detection) float64 { return d.Area }, true
		return m, nil
	}
	return iouSpec{}, fmt.Errorf("unknown iou type %q (want one of %q)", string(t), IoUTypes())
}
