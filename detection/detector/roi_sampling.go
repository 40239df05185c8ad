package detector

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
)

// SampledRoIs are the RoIs a training batch samples for the RoI head, image
// by image, each image's positives before its negatives (the order the
// generators are drawn in). Every branch of the head trains on the same
// sample: the box branch on all rows, a mask branch on the positives.
type SampledRoIs struct {
	// RoIs are R x 5 rows (image index, x1, y1, x2, y2) in the resized frame.
	RoIs []float32
	// Labels are the assigned gt's label for positives and NumClasses
	// (background, last) for negatives.
	Labels []int32
	// GTIndex is each positive's assigned gt as an index into its item's
	// GTBoxes and GTLabels (annotation order, crowd boxes counted), so that
	// per-instance data such as masks is found by it; -1 for negatives.
	GTIndex []int
	// GTBoxes are R x 4: the assigned gt's box, zeros for negatives.
	GTBoxes []float32
	// Weights are 1 / (the image's sampled RoIs × images): a weighted sum of
	// per-RoI terms is the per-image mean averaged over the batch (package
	// doc, Losses).
	Weights []float32
	// MaskRows are the rows of the positives a mask branch trains on, in
	// order: all of them, or a random subset of each image's where the
	// mask branch caps them (MaskOptions.MaxRoIsPerImage).
	MaskRows []int
}

// Len is the number of sampled RoIs.
func (s *SampledRoIs) Len() int { return len(s.Labels) }

// PositiveRoIs are the positive rows of a SampledRoIs, in its order.
type PositiveRoIs struct {
	Rows    []int     // row in the SampledRoIs
	RoIs    []float32 // P x 5 (image index, x1, y1, x2, y2)
	GTIndex []int     // index into the item's GTBoxes and GTLabels
	Labels  []int32   // the gt's label
	GTBoxes []float32 // P x 4
}

// Positives gathers the positive RoIs: what the box branch regresses.
func (s *SampledRoIs) Positives() PositiveRoIs {
	var rows []int
	for r, g := range s.GTIndex {
		if g >= 0 {
			rows = append(rows, r)
		}
	}
	return s.gather(rows)
}

// MaskPositives gathers the positives of MaskRows: what a mask branch
// trains on.
func (s *SampledRoIs) MaskPositives() PositiveRoIs { return s.gather(s.MaskRows) }

func (s *SampledRoIs) gather(rows []int) PositiveRoIs {
	var p PositiveRoIs
	for _, r := range rows {
		p.Rows = append(p.Rows, r)
		p.RoIs = append(p.RoIs, s.RoIs[5*r:5*r+5]...)
		p.GTIndex = append(p.GTIndex, s.GTIndex[r])
		p.Labels = append(p.Labels, s.Labels[r])
		p.GTBoxes = append(p.GTBoxes, s.GTBoxes[4*r:4*r+4]...)
	}
	return p
}

// maskRows picks the rows first..first+n-1 of an image's n positives that
// its mask branch trains on: all of them, or MaxRoIsPerImage drawn
// uniformly (sorted) when there are more. It draws from rng only then, so
// runs without a cap sample as before.
func (h *RoIHead) maskRows(first, n int, rng *rand.Rand) []int {
	k := n
	if h.opt.Mask != nil && h.opt.Mask.MaxRoIsPerImage > 0 {
		k = min(n, h.opt.Mask.MaxRoIsPerImage)
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = first + i
	}
	return detection.ChooseSorted(rng, rows, k)
}

func (s *SampledRoIs) add(image int, box []float32, label int32, gtIndex int, gtBox []float32, w float32) {
	s.RoIs = append(s.RoIs, float32(image))
	s.RoIs = append(s.RoIs, box...)
	s.Labels = append(s.Labels, label)
	s.GTIndex = append(s.GTIndex, gtIndex)
	s.GTBoxes = append(s.GTBoxes, gtBox...)
	s.Weights = append(s.Weights, w)
}

// Sample assigns each image's proposals (one xyxy slice per image, in the
// resized frame) to its gts and samples RoIs with the image's own generator:
// the first step of the RoI head's training pass, shared by its branches.
func (h *RoIHead) Sample(items []*batch.Item, proposals [][]float32, rngs []*rand.Rand) (*SampledRoIs, error) {
	if len(rngs) != len(items) || len(proposals) != len(items) {
		return nil, fmt.Errorf("roi head: %d images, %d proposal sets, %d random sources", len(items), len(proposals), len(rngs))
	}
	s := &SampledRoIs{}
	for i, it := range items {
		if err := h.sampleImage(s, i, it, proposals[i], rngs[i], len(items)); err != nil {
			return nil, fmt.Errorf("roi head sample: %w", err)
		}
	}
	return s, nil
}

// sampleImage appends image i's RoIs: MaxIoU assignment, then random
// sampling (which may add the gts as proposals).
func (h *RoIHead) sampleImage(s *SampledRoIs, i int, it *batch.Item, proposals []float32, rng *rand.Rand, numImages int) error {
	k := h.opt.BBox.NumClasses
	gt, err := splitGT(it, k)
	if err != nil {
		return err
	}
	as, err := h.opt.Assigner.Assign(proposals, gt.boxes, gt.labels, gt.crowd)
	if err != nil {
		return fmt.Errorf("image %d: %w", it.ImageID, err)
	}
	r, err := h.opt.Sampler.Sample(rng, as, proposals, gt.boxes, gt.labels)
	if err != nil {
		return fmt.Errorf("image %d: %w", it.ImageID, err)
	}
	n := len(r.PosInds) + len(r.NegInds)
	if n == 0 {
		return nil
	}
	w := 1 / float32(n*numImages)
	s.MaskRows = append(s.MaskRows, h.maskRows(s.Len(), len(r.PosInds), rng)...)
	for _, p := range r.PosInds {
		g := r.Assign.GtIndex[p]
		s.add(i, r.Proposals[4*p:4*p+4], int32(r.Assign.Labels[p]), gt.index[g], gt.boxes[4*g:4*g+4], w)
	}
	var none [4]float32
	for _, q := range r.NegInds {
		s.add(i, r.Proposals[4*q:4*q+4], int32(k), -1, none[:], w)
	}
	return nil
}
