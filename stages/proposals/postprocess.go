package proposals

import (
	"math"
	"sort"
)

// finish applies the stage's rules to one image's proposals (flat xyxy
// boxes and their scores, any order): clip to the w x h image, drop boxes
// that are empty or have a side below minSize, sort by descending score
// (ties keep input order) and keep the first topK (all when topK <= 0).
// Non-finite boxes or scores are dropped.
func finish(boxes, scores []float32, w, h int, minSize float64, topK int) ([]float32, []float32) {
	type prop struct {
		box   [4]float32
		score float32
	}
	keep := make([]prop, 0, len(scores))
	W, H := float32(w), float32(h)
	for i, s := range scores {
		b := [4]float32(boxes[4*i : 4*i+4])
		if !finite(s) || !finite(b[0]) || !finite(b[1]) || !finite(b[2]) || !finite(b[3]) {
			continue
		}
		b[0], b[2] = clamp(b[0], 0, W), clamp(b[2], 0, W)
		b[1], b[3] = clamp(b[1], 0, H), clamp(b[3], 0, H)
		bw, bh := float64(b[2]-b[0]), float64(b[3]-b[1])
		if bw <= 0 || bh <= 0 || bw < minSize || bh < minSize {
			continue
		}
		keep = append(keep, prop{b, s})
	}
	sort.SliceStable(keep, func(i, j int) bool { return keep[i].score > keep[j].score })
	if topK > 0 && len(keep) > topK {
		keep = keep[:topK]
	}
	ob, os := make([]float32, 0, 4*len(keep)), make([]float32, 0, len(keep))
	for _, p := range keep {
		ob = append(ob, p.box[:]...)
		os = append(os, p.score)
	}
	return ob, os
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

func clamp(v, lo, hi float32) float32 { return min(max(v, lo), hi) }
