package detection

import (
	"errors"
	"fmt"
)

// MaxIoUAssigner assigns each proposal (or anchor) to the ground-truth box it
// overlaps most: MMDetection's MaxIoUAssigner.
//
//  1. Every proposal starts Ignored.
//  2. Proposals whose max IoU is in [NegIoUMin, NegIoUThr) become Negative.
//  3. Proposals whose max IoU is >= PosIoUThr take their best gt.
//  4. With MatchLowQuality, each gt whose best IoU is >= MinPosIoU takes the
//     proposal(s) it overlaps most, even below PosIoUThr; later gts win ties.
//
// Proposals covered by an ignore (crowd) region by more than IgnoreIoFThr, in
// intersection over the proposal's area, keep Ignored.
type MaxIoUAssigner struct {
	PosIoUThr float64
	// NegIoUThr is the upper bound of the negative range; NegIoUMin its lower
	// bound (MMDetection's neg_iou_thr tuple (min, max); a scalar means min 0).
	NegIoUThr float64
	NegIoUMin float64
	MinPosIoU float64
	// MatchLowQuality enables step 4 (MMDetection v2's match_low_quality,
	// always on in v0/v1).
	MatchLowQuality bool
	// GtMaxAssignAll gives a gt every proposal that ties its best IoU, not only
	// the first.
	GtMaxAssignAll bool
	// IgnoreIoFThr <= 0 disables ignore regions (MMDetection's default -1).
	IgnoreIoFThr float64
	// Legacy uses the +1 pixel convention for overlaps.
	Legacy bool
}

// RCNNAssigner returns the assigner of the Fast/Faster R-CNN RoI head:
// pos 0.5, neg 0.5, min pos 0.5, low-quality matching on, ignore off.
func RCNNAssigner() MaxIoUAssigner {
	return MaxIoUAssigner{PosIoUThr: 0.5, NegIoUThr: 0.5, MinPosIoU: 0.5,
		MatchLowQuality: true, GtMaxAssignAll: true, IgnoreIoFThr: -1}
}

// RPNAssigner returns the assigner of the RPN head: pos 0.7, neg 0.3, min pos 0.3.
func RPNAssigner() MaxIoUAssigner {
	return MaxIoUAssigner{PosIoUThr: 0.7, NegIoUThr: 0.3, MinPosIoU: 0.3,
		MatchLowQuality: true, GtMaxAssignAll: true, IgnoreIoFThr: -1}
}

// Validate reports thresholds that cannot work together.
func (a MaxIoUAssigner) Validate() error {
	if a.PosIoUThr < 0 || a.PosIoUThr > 1 {
		return fmt.Errorf("max iou assigner: pos_iou_thr %g is outside [0, 1]", a.PosIoUThr)
	}
	if a.NegIoUMin > a.NegIoUThr {
		return fmt.Errorf("max iou assigner: neg_iou_thr range (%g, %g) is empty", a.NegIoUMin, a.NegIoUThr)
	}
	if a.NegIoUThr > a.PosIoUThr {
		return fmt.Errorf("max iou assigner: neg_iou_thr %g is above pos_iou_thr %g", a.NegIoUThr, a.PosIoUThr)
	}
	return nil
}

// AssignResult holds, per proposal, the assigned gt index (0-based) or a
// sentinel (Negative, Ignored), the gt label or NoLabel, and the max IoU over
// the gts (0 when there are none, -1 for proposals in ignore regions).
type AssignResult struct {
	NumGts     int
	GtIndex    []int
	Labels     []int
	MaxOverlap []float32
}

// NumPos counts proposals assigned to a gt.
func (r AssignResult) NumPos() int {
	n := 0
	for _, g := range r.GtIndex {
		if g >= 0 {
			n++
		}
	}
	return n
}

// MMDetectionGtInds returns MMDetection's 1-based gt_inds encoding of GtIndex.
func (r AssignResult) MMDetectionGtInds() []int {
	out := make([]int, len(r.GtIndex))
	for i, g := range r.GtIndex {
		switch {
		case g >= 0:
			out[i] = g + 1
		case g == Negative:
			out[i] = 0
		default:
			out[i] = -1
		}
	}
	return out
}

// Assign matches N proposals against M gt boxes with labels gtLabels (len M),
// with optional ignore regions gtIgnore (xyxy, may be nil).
func (a MaxIoUAssigner) Assign(proposals, gtBoxes []float32, gtLabels []int, gtIgnore []float32) (AssignResult, error) {
	n, m := NumBoxes(proposals), NumBoxes(gtBoxes)
	if len(gtLabels) != m {
		return AssignResult{}, fmt.Errorf("assign: %d gt labels for %d gt boxes", len(gtLabels), m)
	}
	if err := a.Validate(); err != nil {
		return AssignResult{}, fmt.Errorf("assign: %w", err)
	}
	iou := BoxIoU(gtBoxes, proposals, a.Legacy) // M x N, as MMDetection
	if a.IgnoreIoFThr > 0 && len(gtIgnore) > 0 && n > 0 {
		iof := BoxIoF(proposals, gtIgnore, a.Legacy) // N x I
		ni := NumBoxes(gtIgnore)
		for j := 0; j < n; j++ {
			best := float32(0)
			for k := 0; k < ni; k++ {
				best = max(best, iof[j*ni+k])
			}
			if float64(best) > a.IgnoreIoFThr {
				for i := 0; i < m; i++ {
					iou[i*n+j] = -1
				}
			}
		}
	}
	return a.AssignOverlaps(iou, m, n, gtLabels)
}

// AssignOverlaps is Assign on a precomputed M x N overlap matrix (gt rows).
func (a MaxIoUAssigner) AssignOverlaps(iou []float32, m, n int, gtLabels []int) (AssignResult, error) {
	if len(iou) != m*n {
		return AssignResult{}, errors.New("assign: overlap matrix is not M x N")
	}
	res := AssignResult{NumGts: m, GtIndex: make([]int, n), Labels: make([]int, n), MaxOverlap: make([]float32, n)}
	for j := range res.GtIndex {
		res.GtIndex[j] = Ignored
		res.Labels[j] = NoLabel
	}
	if m == 0 || n == 0 {
		if m == 0 {
			for j := range res.GtIndex {
				res.GtIndex[j] = Negative
			}
		}
		return res, nil
	}
	// Best gt per proposal; the first gt wins ties (torch.max semantics).
	argmax := make([]int, n)
	for j := 0; j < n; j++ {
		best, arg := iou[j], 0
		for i := 1; i < m; i++ {
			if v := iou[i*n+j]; v > best {
				best, arg = v, i
			}
		}
		res.MaxOverlap[j], argmax[j] = best, arg
	}
	for j := 0; j < n; j++ {
		v := float64(res.MaxOverlap[j])
		if v >= a.NegIoUMin && v >= 0 && v < a.NegIoUThr {
			res.GtIndex[j] = Negative
		}
		if v >= a.PosIoUThr {
			res.GtIndex[j] = argmax[j]
		}
	}
	if a.MatchLowQuality {
		a.matchLowQuality(iou, m, n, res.GtIndex)
	}
	for j, g := range res.GtIndex {
		if g >= 0 {
			res.Labels[j] = gtLabels[g]
		}
	}
	return res, nil
}

// matchLowQuality gives each gt its best proposal(s) when their IoU reaches
// MinPosIoU, so that every reasonably covered gt has a positive.
func (a MaxIoUAssigner) matchLowQuality(iou []float32, m, n int, gtIndex []int) {
	for i := 0; i < m; i++ {
		row := iou[i*n : (i+1)*n]
		best, arg := row[0], 0
		for j := 1; j < n; j++ {
			if row[j] > best {
				best, arg = row[j], j
			}
		}
		if float64(best) < a.MinPosIoU {
			continue
		}
		if !a.GtMaxAssignAll {
			gtIndex[arg] = i
			continue
		}
		for j, v := range row {
			if v == best {
				gtIndex[j] = i
			}
		}
	}
}
