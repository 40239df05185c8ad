package detection

import (
	"fmt"
	"math/rand/v2"
)

// AnchorTargets are the RPN training targets of one image, one entry per anchor
// (all anchors of all levels, in anchor order).
type AnchorTargets struct {
	// Objectness is 1 for sampled positives and 0 otherwise.
	Objectness []float32
	// ObjectnessWeights is 1 for sampled positives and negatives, 0 for the
	// rest (unsampled, ignored, or outside the image).
	ObjectnessWeights []float32
	// BoxTargets (N x 4) are the encoded gt deltas of the sampled positives.
	BoxTargets []float32
	// BoxWeights (N x 4) are 1 for sampled positives.
	BoxWeights []float32
	NumPos     int
	NumNeg     int
}

// RPNTargetConfig bundles the pieces that build the RPN targets.
type RPNTargetConfig struct {
	Assigner MaxIoUAssigner
	Sampler  RandomSampler
	Coder    BoxCoder
	// AllowedBorder keeps anchors at most this many pixels outside the image;
	// negative keeps all valid anchors (MMDetection v2's -1; v0 used 0).
	AllowedBorder float32
}

// DefaultRPNTargets is MMDetection's R-50-FPN RPN training setting.
func DefaultRPNTargets() RPNTargetConfig {
	return RPNTargetConfig{Assigner: RPNAssigner(), Sampler: RPNSampler(), Coder: RPNBoxCoder(), AllowedBorder: -1}
}

// BuildAnchorTargets assigns and samples the anchors of one image of
// imgH x imgW pixels (valid marks anchors on the image's unpadded feature
// locations, see ValidFlags) and encodes the box targets: MMDetection v2's
// AnchorHead._get_targets_single for the RPN. Anchors outside the image by more
// than AllowedBorder take no part and get zero weights.
func BuildAnchorTargets(rng *rand.Rand, anchors []float32, valid []bool, imgH, imgW int, gtBoxes, gtIgnore []float32, cfg RPNTargetConfig) (AnchorTargets, error) {
	n := NumBoxes(anchors)
	if len(valid) != n {
		return AnchorTargets{}, fmt.Errorf("build anchor targets: %d valid flags for %d anchors", len(valid), n)
	}
	inside := InsideFlags(anchors, valid, imgH, imgW, cfg.AllowedBorder)
	var idx []int
	for i, ok := range inside {
		if ok {
			idx = append(idx, i)
		}
	}
	sub := GatherBoxes(anchors, idx)
	gtLabels := make([]int, NumBoxes(gtBoxes))
	assign, err := cfg.Assigner.Assign(sub, gtBoxes, gtLabels, gtIgnore)
	if err != nil {
		return AnchorTargets{}, fmt.Errorf("build anchor targets: %w", err)
	}
	s := cfg.Sampler
	s.AddGtAsProposals = false // targets exist per anchor only
	sample, err := s.Sample(rng, assign, sub, gtBoxes, gtLabels)
	if err != nil {
		return AnchorTargets{}, fmt.Errorf("build anchor targets: %w", err)
	}
	t := AnchorTargets{
		Objectness:        make([]float32, n),
		ObjectnessWeights: make([]float32, n),
		BoxTargets:        make([]float32, 4*n),
		BoxWeights:        make([]float32, 4*n),
		NumPos:            len(sample.PosInds),
		NumNeg:            len(sample.NegInds),
	}
	if len(sample.PosInds) > 0 {
		pos := GatherBoxes(sub, sample.PosInds)
		deltas := cfg.Coder.Encode(pos, GatherBoxes(gtBoxes, sample.PosGtIndex()))
		for k, p := range sample.PosInds {
			i := idx[p]
			t.Objectness[i], t.ObjectnessWeights[i] = 1, 1
			copy(t.BoxTargets[4*i:4*i+4], deltas[4*k:4*k+4])
			copy(t.BoxWeights[4*i:4*i+4], []float32{1, 1, 1, 1})
		}
	}
	for _, p := range sample.NegInds {
		t.ObjectnessWeights[idx[p]] = 1
	}
	return t, nil
}

// RoITargets are the box-head training targets of one image, for the sampled
// RoIs, positives first then negatives (MMDetection's order).
type RoITargets struct {
	// Rois (N x 4) are the sampled proposals: positives then negatives.
	Rois []float32
	// Labels are gt labels for positives and numClasses (background) for
	// negatives (MMDetection v2+; v0/v1 used 0 for background and 1..K).
	Labels []int
	// LabelWeights are 1 for every sampled RoI.
	LabelWeights []float32
	// BoxTargets (N x 4) are the encoded class-agnostic deltas of positives;
	// the head places them at the label's slot for per-class regression.
	BoxTargets []float32
	// BoxWeights (N x 4) are 1 for positives.
	BoxWeights []float32
	NumPos     int
}

// BuildRoITargets turns one image's sampling result into box-head targets:
// MMDetection v2's BBoxHead._get_target_single with pos_weight 1.
func BuildRoITargets(sample SamplingResult, gtBoxes []float32, numClasses int, coder BoxCoder) RoITargets {
	np, nn := len(sample.PosInds), len(sample.NegInds)
	t := RoITargets{
		Rois:         append(GatherBoxes(sample.Proposals, sample.PosInds), GatherBoxes(sample.Proposals, sample.NegInds)...),
		Labels:       make([]int, np+nn),
		LabelWeights: make([]float32, np+nn),
		BoxTargets:   make([]float32, 4*(np+nn)),
		BoxWeights:   make([]float32, 4*(np+nn)),
		NumPos:       np,
	}
	if np > 0 {
		deltas := coder.Encode(t.Rois[:4*np], GatherBoxes(gtBoxes, sample.PosGtIndex()))
		copy(t.BoxTargets, deltas)
	}
	for k := range t.Labels {
		t.LabelWeights[k] = 1
		if k < np {
			t.Labels[k] = sample.Assign.Labels[sample.PosInds[k]]
			copy(t.BoxWeights[4*k:4*k+4], []float32{1, 1, 1, 1})
		} else {
			t.Labels[k] = numClasses
		}
	}
	return t
}
