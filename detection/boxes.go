package detection

import "github.com/detflow/detflow/tensor"

// iouEps keeps IoU of degenerate (zero-area) boxes at 0 instead of NaN, as
// MMDetection v2's bbox_overlaps does; torchvision's box_iou returns NaN there.
const iouEps = 1e-6

// pixelOffset is the width of a zero-extent box: 1 under the legacy convention.
func pixelOffset(legacy bool) float32 {
	if legacy {
		return 1
	}
	return 0
}

// NumBoxes returns the number of xyxy boxes in a flat slice. It panics when the
// length is not a multiple of 4: that is a programmer error, not bad input.
func NumBoxes(boxes []float32) int {
	if len(boxes)%4 != 0 {
		tensor.Panicf("detection: box slice length %d is not a multiple of 4", len(boxes))
	}
	return len(boxes) / 4
}

// XYXYToXYWH converts N xyxy boxes to (x, y, w, h) with (x, y) the top-left
// corner, as COCO results files want them. Under the legacy convention
// w = x2 - x1 + 1 (what MMDetection v0 wrote).
func XYXYToXYWH(boxes []float32, legacy bool) []float32 {
	off := pixelOffset(legacy)
	out := make([]float32, 4*NumBoxes(boxes))
	for i := 0; i < len(boxes); i += 4 {
		out[i] = boxes[i]
		out[i+1] = boxes[i+1]
		out[i+2] = boxes[i+2] - boxes[i] + off
		out[i+3] = boxes[i+3] - boxes[i+1] + off
	}
	return out
}

// XYWHToXYXY is the inverse of XYXYToXYWH.
func XYWHToXYXY(boxes []float32, legacy bool) []float32 {
	off := pixelOffset(legacy)
	out := make([]float32, 4*NumBoxes(boxes))
	for i := 0; i < len(boxes); i += 4 {
		out[i] = boxes[i]
		out[i+1] = boxes[i+1]
		out[i+2] = boxes[i] + boxes[i+2] - off
		out[i+3] = boxes[i+1] + boxes[i+3] - off
	}
	return out
}

// BoxAreas returns the N areas (x2-x1)*(y2-y1), or with the legacy +1 convention
// (x2-x1+1)*(y2-y1+1). Inverted boxes give negative or odd areas exactly as in
// torchvision; callers filter them with RemoveSmallBoxes first.
func BoxAreas(boxes []float32, legacy bool) []float32 {
	off := pixelOffset(legacy)
	out := make([]float32, NumBoxes(boxes))
	for i := range out {
		b := boxes[4*i : 4*i+4]
		out[i] = (b[2] - b[0] + off) * (b[3] - b[1] + off)
	}
	return out
}

// BoxIoU returns the N x M matrix of intersection over union of boxes a (N)
// against boxes b (M), computed in float32 like torchvision's box_iou and
// MMDetection's bbox_overlaps so that comparisons against thresholds such as
// 0.5 or 0.7 fall on the same side. A zero union gives 0 (see iouEps).
func BoxIoU(a, b []float32, legacy bool) []float32 {
	return overlaps(a, b, legacy, false)
}

// BoxIoF returns the N x M matrix of intersection over the area of the boxes
// in a ("foreground"): MMDetection's bbox_overlaps(a, b, mode='iof'), used to
// find proposals covered by ignored or crowd regions. COCOeval's crowd IoU is
// BoxIoF(detections, crowdGT).
func BoxIoF(a, b []float32, legacy bool) []float32 {
	return overlaps(a, b, legacy, true)
}

func overlaps(a, b []float32, legacy, iof bool) []float32 {
	off := pixelOffset(legacy)
	n, m := NumBoxes(a), NumBoxes(b)
	areaA, areaB := BoxAreas(a, legacy), BoxAreas(b, legacy)
	out := make([]float32, n*m)
	for i := 0; i < n; i++ {
		ax1, ay1, ax2, ay2 := a[4*i], a[4*i+1], a[4*i+2], a[4*i+3]
		row := out[i*m : (i+1)*m]
		for j := 0; j < m; j++ {
			w := min(ax2, b[4*j+2]) - max(ax1, b[4*j]) + off
			h := min(ay2, b[4*j+3]) - max(ay1, b[4*j+1]) + off
			if w <= 0 || h <= 0 {
				continue
			}
			inter := float32(w * h)
			var denom float32
			if iof {
				denom = areaA[i]
			} else {
				denom = float32(areaA[i]+areaB[j]) - inter
			}
			row[j] = inter / max(denom, iouEps)
		}
	}
	return out
}

// ClipBoxes clamps N boxes in place to the image: x to [0, width] and y to
// [0, height] (v2+, torchvision's clip_boxes_to_image), or to [0, width-1] and
// [0, height-1] under the legacy convention.
func ClipBoxes(boxes []float32, height, width int, legacy bool) {
	NumBoxes(boxes)
	off := pixelOffset(legacy)
	maxX, maxY := float32(width)-off, float32(height)-off
	for i := 0; i < len(boxes); i += 4 {
		boxes[i] = min(max(boxes[i], 0), maxX)
		boxes[i+1] = min(max(boxes[i+1], 0), maxY)
		boxes[i+2] = min(max(boxes[i+2], 0), maxX)
		boxes[i+3] = min(max(boxes[i+3], 0), maxY)
	}
}

// SizeRule says how RemoveSmallBoxes compares a box side with the minimum.
type SizeRule int

const (
	// AtLeast keeps boxes with w >= min and h >= min (torchvision's
	// remove_small_boxes, MMDetection v0/v1 RPN with legacy widths).
	AtLeast SizeRule = iota
	// Greater keeps boxes with w > min and h > min (MMDetection v2 RPN, where
	// min_bbox_size 0 drops zero-width proposals).
	Greater
)

// RemoveSmallBoxes returns, in increasing order, the indices of the boxes whose
// width and height pass rule against minSize.
func RemoveSmallBoxes(boxes []float32, minSize float32, rule SizeRule, legacy bool) []int {
	off := pixelOffset(legacy)
	n := NumBoxes(boxes)
	keep := make([]int, 0, n)
	for i := 0; i < n; i++ {
		w := boxes[4*i+2] - boxes[4*i] + off
		h := boxes[4*i+3] - boxes[4*i+1] + off
		ok := w >= minSize && h >= minSize
		if rule == Greater {
			ok = w > minSize && h > minSize
		}
		if ok {
			keep = append(keep, i)
		}
	}
	return keep
}

// GatherBoxes returns the boxes at the given indices, in that order.
func GatherBoxes(boxes []float32, idx []int) []float32 {
	out := make([]float32, 0, 4*len(idx))
	for _, i := range idx {
		out = append(out, boxes[4*i:4*i+4]...)
	}
	return out
}
