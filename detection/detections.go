package detection

import (
	"fmt"

	"github.com/detflow/detflow/coco"
)

// Detections are one image's predictions: the one result type carried from
// a detector's Predict through the evaluate stage to the detections table
// and the COCO results files.
//
// Boxes are xyxy, four values per box; Scores and Labels have one value per
// box, by decreasing score. Labels are the contiguous classes 0..K-1 (the
// records index maps them to COCO category ids); a class-agnostic model (an
// RPN) may leave them nil. A detector returns boxes in original image
// pixels. Masks is nil for box-only models; a model with an instance-mask
// branch sets one per box: its mask pasted into the original image, run-length
// encoded as COCO does.
type Detections struct {
	Boxes  []float32
	Scores []float32
	Labels []int32
	Masks  []coco.RLE
}

// Len is the number of detections.
func (d *Detections) Len() int { return len(d.Scores) }

// Check reports lists that do not line up.
func (d *Detections) Check() error {
	n := d.Len()
	switch {
	case len(d.Boxes) != 4*n:
		return fmt.Errorf("%d box coordinates for %d scores, want 4 per score", len(d.Boxes), n)
	case d.Labels != nil && len(d.Labels) != n:
		return fmt.Errorf("%d labels for %d scores", len(d.Labels), n)
	case d.Masks != nil && len(d.Masks) != n:
		return fmt.Errorf("%d masks for %d scores", len(d.Masks), n)
	}
	return nil
}
