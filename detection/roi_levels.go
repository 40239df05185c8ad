package detection

import (
	"fmt"
	"math"

	"github.com/detflow/detflow/tensor"
)

// DefaultFinestScale is MMDetection's finest_scale: RoIs smaller than 112 px
// (sqrt of area) go to the finest level.
const DefaultFinestScale = 56

// MapRoILevels assigns each of the R rois (R x 5: batch index, x1, y1, x2, y2)
// to a pyramid level, MMDetection's SingleRoIExtractor.map_roi_levels:
//
//	level = floor(log2(sqrt(w*h) / finestScale + 1e-6)), clamped to [0, numLevels-1]
//
// so with finest scale 56 and 4 levels: < 112 px -> 0 (stride 4), < 224 -> 1,
// < 448 -> 2, larger -> 3. Widths are x2-x1 (+1 when legacy, as v0/v1).
// torchvision's MultiScaleRoIAlign (LevelMapper, canonical 224 at level 4)
// computes floor(4 + log2(sqrt(area)/224) + 1e-6) - 2: the same rule with the
// epsilon outside the log, so only RoIs within ~1e-6 relative of a level
// boundary can land differently.
func MapRoILevels(rois []float32, numLevels int, finestScale float64, legacy bool) []int {
	if len(rois)%5 != 0 {
		tensor.Panicf("detection: map roi levels: %d values are not R x 5", len(rois))
	}
	off := pixelOffset(legacy)
	out := make([]int, len(rois)/5)
	for i := range out {
		r := rois[5*i : 5*i+5]
		// float32 like the reference up to the log, whose last-ulp behaviour
		// differs between libraries anyway.
		area := (r[3] - r[1] + off) * (r[4] - r[2] + off)
		scale := float32(math.Sqrt(float64(area)))
		v := scale/float32(finestScale) + 1e-6
		lvl := int(math.Floor(math.Log2(float64(v))))
		out[i] = min(max(lvl, 0), numLevels-1)
	}
	return out
}

// MultiLevelRoIAlign pools every RoI from the pyramid level MapRoILevels gives
// it: levels[l] is the level-l feature map, scaled by cfg.SpatialScale times
// 1/strides[l] (cfg.SpatialScale should be 1). The result is
// R x C x OutH x OutW in the order of rois, with the level of each RoI.
func MultiLevelRoIAlign(levels []FeatureMap, strides []int, rois []float32, cfg RoIAlignConfig, finestScale float64, legacy bool) ([]float32, []int, error) {
	if len(levels) == 0 || len(levels) != len(strides) {
		return nil, nil, fmt.Errorf("multi-level roi align: %d feature maps for %d strides", len(levels), len(strides))
	}
	c := levels[0].C
	for l, f := range levels {
		if f.C != c || f.N != levels[0].N {
			return nil, nil, fmt.Errorf("multi-level roi align: level %d is %dx%d, level 0 is %dx%d (images x channels)", l, f.N, f.C, levels[0].N, c)
		}
	}
	lvl := MapRoILevels(rois, len(levels), finestScale, legacy)
	bins := cfg.OutH * cfg.OutW
	out := make([]float32, len(lvl)*c*bins)
	for l := range levels {
		idx := indicesOf(lvl, l)
		if len(idx) == 0 {
			continue
		}
		sub := gatherRows(rois, idx, 5)
		lc := cfg
		lc.SpatialScale = cfg.SpatialScale / float64(strides[l])
		pooled, err := RoIAlign(levels[l], sub, lc)
		if err != nil {
			return nil, nil, fmt.Errorf("multi-level roi align: level %d: %w", l, err)
		}
		for k, i := range idx {
			copy(out[i*c*bins:(i+1)*c*bins], pooled[k*c*bins:(k+1)*c*bins])
		}
	}
	return out, lvl, nil
}

// MultiLevelRoIAlignBackward returns the gradient of every level's feature map
// given the gradient of MultiLevelRoIAlign's output and its RoI levels.
func MultiLevelRoIAlignBackward(gradOut []float32, levels []FeatureMap, strides []int, rois []float32, roiLevels []int, cfg RoIAlignConfig) ([][]float32, error) {
	if len(levels) != len(strides) || len(roiLevels)*5 != len(rois) {
		return nil, fmt.Errorf("multi-level roi align backward: %d maps, %d strides, %d levels for %d roi values", len(levels), len(strides), len(roiLevels), len(rois))
	}
	bins := cfg.OutH * cfg.OutW
	grads := make([][]float32, len(levels))
	for l, f := range levels {
		c := f.C
		idx := indicesOf(roiLevels, l)
		lc := cfg
		lc.SpatialScale = cfg.SpatialScale / float64(strides[l])
		g, err := RoIAlignBackward(gatherRows(gradOut, idx, c*bins), f, gatherRows(rois, idx, 5), lc)
		if err != nil {
			return nil, fmt.Errorf("multi-level roi align backward: level %d: %w", l, err)
		}
		grads[l] = g
	}
	return grads, nil
}

func indicesOf(v []int, want int) []int {
	var idx []int
	for i, x := range v {
		if x == want {
			idx = append(idx, i)
		}
	}
	return idx
}

func gatherRows(v []float32, idx []int, width int) []float32 {
	out := make([]float32, 0, len(idx)*width)
	for _, i := range idx {
		out = append(out, v[i*width:(i+1)*width]...)
	}
	return out
}
