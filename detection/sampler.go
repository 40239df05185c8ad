package detection

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// RandomSampler draws a fixed budget of positive and negative proposals for a
// head's loss: MMDetection's RandomSampler.
//
// Up to int(Num*PosFraction) positives are drawn uniformly without replacement;
// negatives fill the rest of Num, capped at NegPosUB*max(1, #pos) when
// NegPosUB >= 0. With AddGtAsProposals the gt boxes are prepended to the
// proposals (as positives of themselves) before drawing.
type RandomSampler struct {
	Num              int
	PosFraction      float64
	NegPosUB         float64
	AddGtAsProposals bool
}

// RCNNSampler returns the Fast/Faster R-CNN RoI sampler: 512, 0.25, no bound,
// gts added as proposals.
func RCNNSampler() RandomSampler {
	return RandomSampler{Num: 512, PosFraction: 0.25, NegPosUB: -1, AddGtAsProposals: true}
}

// RPNSampler returns the RPN anchor sampler: 256, 0.5, no bound, no gts added.
func RPNSampler() RandomSampler {
	return RandomSampler{Num: 256, PosFraction: 0.5, NegPosUB: -1}
}

// Validate reports a sampler configuration that cannot work.
func (s RandomSampler) Validate() error {
	if s.Num <= 0 {
		return fmt.Errorf("random sampler: num %d is not positive", s.Num)
	}
	if s.PosFraction < 0 || s.PosFraction > 1 {
		return fmt.Errorf("random sampler: pos_fraction %g is outside [0, 1]", s.PosFraction)
	}
	return nil
}

// SamplingResult is what a head's target builder needs. Indices refer to
// Proposals, which starts with the gts when AddGtAsProposals was set.
type SamplingResult struct {
	Proposals []float32
	Assign    AssignResult
	// GtFlags marks the rows of Proposals that are gt boxes.
	GtFlags []bool
	// PosInds and NegInds are sorted and disjoint.
	PosInds []int
	NegInds []int
}

// PosGtIndex returns the gt index of each sampled positive.
func (r SamplingResult) PosGtIndex() []int {
	out := make([]int, len(r.PosInds))
	for i, p := range r.PosInds {
		out[i] = r.Assign.GtIndex[p]
	}
	return out
}

// Sample draws positives and negatives for one image. rng must not be nil:
// the caller owns the seed, so runs reproduce.
func (s RandomSampler) Sample(rng *rand.Rand, assign AssignResult, proposals, gtBoxes []float32, gtLabels []int) (SamplingResult, error) {
	if rng == nil {
		return SamplingResult{}, errors.New("sample: nil random source")
	}
	if err := s.Validate(); err != nil {
		return SamplingResult{}, fmt.Errorf("sample: %w", err)
	}
	n, m := NumBoxes(proposals), NumBoxes(gtBoxes)
	if len(assign.GtIndex) != n {
		return SamplingResult{}, fmt.Errorf("sample: assignment has %d entries for %d proposals", len(assign.GtIndex), n)
	}
	if len(gtLabels) != m {
		return SamplingResult{}, fmt.Errorf("sample: %d gt labels for %d gt boxes", len(gtLabels), m)
	}
	res := SamplingResult{Proposals: proposals, Assign: assign, GtFlags: make([]bool, n)}
	if s.AddGtAsProposals && m > 0 {
		res = withGtAsProposals(res, gtBoxes, gtLabels)
	}
	var pos, neg []int
	for i, g := range res.Assign.GtIndex {
		switch {
		case g >= 0:
			pos = append(pos, i)
		case g == Negative:
			neg = append(neg, i)
		}
	}
	res.PosInds = ChooseSorted(rng, pos, int(float64(s.Num)*s.PosFraction))
	numNeg := s.Num - len(res.PosInds)
	if s.NegPosUB >= 0 {
		numNeg = min(numNeg, int(s.NegPosUB*float64(max(1, len(res.PosInds)))))
	}
	res.NegInds = ChooseSorted(rng, neg, numNeg)
	return res, nil
}

// withGtAsProposals prepends the gts to the proposals and to the assignment as
// positives of themselves with overlap 1 (MMDetection's add_gt_).
func withGtAsProposals(r SamplingResult, gtBoxes []float32, gtLabels []int) SamplingResult {
	m := len(gtLabels)
	out := SamplingResult{
		Proposals: slices.Concat(gtBoxes, r.Proposals),
		GtFlags:   slices.Concat(make([]bool, m), r.GtFlags),
		Assign: AssignResult{
			NumGts:     r.Assign.NumGts,
			GtIndex:    make([]int, m, m+len(r.Assign.GtIndex)),
			Labels:     slices.Concat(gtLabels, r.Assign.Labels),
			MaxOverlap: make([]float32, m, m+len(r.Assign.MaxOverlap)),
		},
	}
	for i := 0; i < m; i++ {
		out.GtFlags[i] = true
		out.Assign.GtIndex[i] = i
		out.Assign.MaxOverlap[i] = 1
	}
	out.Assign.GtIndex = append(out.Assign.GtIndex, r.Assign.GtIndex...)
	out.Assign.MaxOverlap = append(out.Assign.MaxOverlap, r.Assign.MaxOverlap...)
	return out
}

// ChooseSorted returns k elements of cand drawn uniformly without replacement
// (all of them when k >= len(cand)), sorted. cand is not modified.
func ChooseSorted(rng *rand.Rand, cand []int, k int) []int {
	if k <= 0 {
		return []int{}
	}
	c := slices.Clone(cand)
	if k < len(c) {
		// Partial Fisher-Yates: the first k slots become a uniform sample.
		for i := 0; i < k; i++ {
			j := i + rng.IntN(len(c)-i)
			c[i], c[j] = c[j], c[i]
		}
		c = c[:k]
	}
	slices.Sort(c)
	return c
}
