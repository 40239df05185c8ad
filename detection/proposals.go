package detection

import (
	"errors"
	"fmt"
)

// ProposalConfig configures the proposal layer that turns RPN outputs into
// proposals for one image.
//
// MMDetection v2+ (Legacy false), RPNHead._get_bboxes:
//
//	per level: top NmsPre anchors by score
//	all levels: decode, clip, drop boxes with w <= MinBoxSize or h <= MinBoxSize,
//	            NMS within each level (batched over level ids), keep MaxNum
//	            (max_per_img) best.
//
// MMDetection v0/v1 (Legacy true), RPNHead.get_bboxes_single:
//
//	per level: top NmsPre, decode, clip, drop boxes with w < MinBoxSize or
//	           h < MinBoxSize (+1 widths, only when MinBoxSize > 0), NMS,
//	           keep NmsPost best
//	all levels: NmsAcrossLevels ? NMS then first MaxNum : MaxNum best by score.
//
// NmsPost is unused in v2 (MMDetection v2 deprecated it in favour of
// max_per_img). The R-50-FPN configs use NmsPre 2000, NmsPost 2000, MaxNum 2000
// for training and NmsPre 1000, NmsPost 1000, MaxNum 1000 for testing, NmsThr
// 0.7, MinBoxSize 0.
type ProposalConfig struct {
	NmsPre          int
	NmsPost         int
	MaxNum          int
	NmsThr          float64
	MinBoxSize      float32
	NmsAcrossLevels bool
	Legacy          bool
}

// LevelPredictions are one image's RPN outputs at one pyramid level, in anchor
// order (see AnchorGenerator): objectness probabilities (after sigmoid or
// softmax, N), deltas (N x 4) and the anchors (N x 4). Logits, when set,
// rank the anchors instead of Scores: above a logit of ~16.6 the float32
// sigmoid is exactly 1 and ties appear that the logits do not have
// (torchvision ranks by logit; where sigmoids differ the order is the same).
type LevelPredictions struct {
	Logits  []float32
	Scores  []float32
	Deltas  []float32
	Anchors []float32
}

// Proposals are one image's proposals (N x 4) and objectness scores, by
// decreasing score.
type Proposals struct {
	Boxes  []float32
	Scores []float32
}

// GenerateProposals runs the proposal layer for one image of imgH x imgW pixels
// (the resized image, before padding). coder is normally RPNBoxCoder and must
// use the same convention as cfg.Legacy.
func GenerateProposals(levels []LevelPredictions, coder BoxCoder, imgH, imgW int, cfg ProposalConfig) (Proposals, error) {
	if coder.Legacy != cfg.Legacy {
		return Proposals{}, errors.New("generate proposals: box coder and proposal config disagree on the legacy convention")
	}
	for l, lv := range levels {
		n := len(lv.Scores)
		if len(lv.Deltas) != 4*n || len(lv.Anchors) != 4*n || (lv.Logits != nil && len(lv.Logits) != n) {
			return Proposals{}, fmt.Errorf("generate proposals: level %d: %d scores, %d delta values, %d anchor values", l, n, len(lv.Deltas), len(lv.Anchors))
		}
	}
	if cfg.Legacy {
		return proposalsV0(levels, coder, imgH, imgW, cfg), nil
	}
	return proposalsV2(levels, coder, imgH, imgW, cfg), nil
}

// topLevel keeps a level's NmsPre best anchors, by decreasing score.
func topLevel(lv LevelPredictions, k int) (scores, deltas, anchors []float32) {
	rank := lv.Scores
	if lv.Logits != nil {
		rank = lv.Logits
	}
	idx := TopK(rank, k)
	return Gather(lv.Scores, idx), GatherBoxes(lv.Deltas, idx), GatherBoxes(lv.Anchors, idx)
}

func proposalsV2(levels []LevelPredictions, coder BoxCoder, imgH, imgW int, cfg ProposalConfig) Proposals {
	var scores, deltas, anchors []float32
	var ids []int
	for l, lv := range levels {
		s, d, a := topLevel(lv, cfg.NmsPre)
		scores = append(scores, s...)
		deltas = append(deltas, d...)
		anchors = append(anchors, a...)
		for range s {
			ids = append(ids, l)
		}
	}
	boxes := coder.DecodeClipped(anchors, deltas, imgH, imgW)
	// v2 filters whenever min_bbox_size >= 0, so the default 0 drops boxes
	// that clipping flattened to zero width or height.
	if cfg.MinBoxSize >= 0 {
		valid := RemoveSmallBoxes(boxes, cfg.MinBoxSize, Greater, false)
		boxes, scores, ids = GatherBoxes(boxes, valid), Gather(scores, valid), Gather(ids, valid)
	}
	keep := BatchedNMS(boxes, scores, ids, cfg.NmsThr, false)
	if cfg.MaxNum > 0 && len(keep) > cfg.MaxNum {
		keep = keep[:cfg.MaxNum]
	}
	return Proposals{Boxes: GatherBoxes(boxes, keep), Scores: Gather(scores, keep)}
}

func proposalsV0(levels []LevelPredictions, coder BoxCoder, imgH, imgW int, cfg ProposalConfig) Proposals {
	var boxes, scores []float32
	for _, lv := range levels {
		s, d, a := topLevel(lv, cfg.NmsPre)
		b := coder.DecodeClipped(a, d, imgH, imgW)
		if cfg.MinBoxSize > 0 {
			valid := RemoveSmallBoxes(b, cfg.MinBoxSize, AtLeast, true)
			b, s = GatherBoxes(b, valid), Gather(s, valid)
		}
		keep := NMS(b, s, cfg.NmsThr, true)
		if cfg.NmsPost > 0 && len(keep) > cfg.NmsPost {
			keep = keep[:cfg.NmsPost]
		}
		boxes = append(boxes, GatherBoxes(b, keep)...)
		scores = append(scores, Gather(s, keep)...)
	}
	var keep []int
	if cfg.NmsAcrossLevels {
		keep = NMS(boxes, scores, cfg.NmsThr, true)
		if cfg.MaxNum > 0 && len(keep) > cfg.MaxNum {
			keep = keep[:cfg.MaxNum]
		}
	} else {
		keep = TopK(scores, cfg.MaxNum)
	}
	return Proposals{Boxes: GatherBoxes(boxes, keep), Scores: Gather(scores, keep)}
}

// GenerateProposalsBatch runs GenerateProposals for every image of a batch;
// levels[b] are image b's predictions and sizes[b] its (height, width).
func GenerateProposalsBatch(levels [][]LevelPredictions, coder BoxCoder, sizes [][2]int, cfg ProposalConfig) ([]Proposals, error) {
	if len(levels) != len(sizes) {
		return nil, fmt.Errorf("generate proposals: %d images but %d image sizes", len(levels), len(sizes))
	}
	out := make([]Proposals, len(levels))
	for b := range levels {
		p, err := GenerateProposals(levels[b], coder, sizes[b][0], sizes[b][1], cfg)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", b, err)
		}
		out[b] = p
	}
	return out, nil
}
