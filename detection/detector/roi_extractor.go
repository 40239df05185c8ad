package detector

import (
	"fmt"

	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/tensor"
)

// RoIExtractorOptions configures multi-level RoIAlign.
type RoIExtractorOptions struct {
	// OutputSize is the pooled side; default 7.
	OutputSize int
	// SamplingRatio is the samples per bin side; 0 is adaptive (v2+).
	SamplingRatio int
	// Aligned shifts by half a pixel (torchvision aligned=True, v2+).
	Aligned bool
	// Strides of the levels pooled from; default 4, 8, 16, 32.
	Strides []int
	// FinestScale of the level mapping; default 56.
	FinestScale float64
	// Legacy uses +1 widths in the level mapping (MMDetection v0/v1).
	Legacy bool
}

func (o RoIExtractorOptions) withDefaults() RoIExtractorOptions {
	if o.OutputSize == 0 {
		o.OutputSize = 7
	}
	if len(o.Strides) == 0 {
		o.Strides = []int{4, 8, 16, 32}
	}
	if o.FinestScale == 0 {
		o.FinestScale = detection.DefaultFinestScale
	}
	return o
}

// RoIExtractor pools every RoI from the pyramid level its size maps to
// (MMDetection's SingleRoIExtractor with RoIAlign).
type RoIExtractor struct {
	opt RoIExtractorOptions
}

// NewRoIExtractor returns a RoI extractor; it has no parameters.
func NewRoIExtractor(opt RoIExtractorOptions) *RoIExtractor {
	return &RoIExtractor{opt: opt.withDefaults()}
}

// Forward pools rois (R x 5, image index first) from levels (the first
// len(Strides) pyramid levels, [B,C,H,W] each) into [R,C,S,S], with the
// gradient flowing back into the levels.
func (x *RoIExtractor) Forward(levels []*tensor.Tensor, rois []float32) (*tensor.Tensor, error) {
	o := x.opt
	if len(levels) < len(o.Strides) {
		return nil, fmt.Errorf("roi extractor: %d feature levels for %d strides", len(levels), len(o.Strides))
	}
	levels = levels[:len(o.Strides)]
	if len(rois)%5 != 0 {
		return nil, fmt.Errorf("roi extractor: %d roi values are not R x 5", len(rois))
	}
	if levels[0].Rank() != 4 {
		return nil, fmt.Errorf("roi extractor: level 0 has shape %v", levels[0].Shape())
	}
	r, c := len(rois)/5, levels[0].Dim(1)
	cfg := detection.RoIAlignConfig{OutH: o.OutputSize, OutW: o.OutputSize, SpatialScale: 1, SamplingRatio: o.SamplingRatio, Aligned: o.Aligned}
	shapes := make([][4]int, len(levels))
	for l, t := range levels {
		if t.Rank() != 4 || t.Dim(1) != c || t.Dim(0) != levels[0].Dim(0) {
			return nil, fmt.Errorf("roi extractor: level %d has shape %v, level 0 %v", l, t.Shape(), levels[0].Shape())
		}
		shapes[l] = [4]int{t.Dim(0), t.Dim(1), t.Dim(2), t.Dim(3)}
	}
	maps := func(in [][]float32) []detection.FeatureMap {
		fm := make([]detection.FeatureMap, len(in))
		for l, d := range in {
			s := shapes[l]
			fm[l] = detection.FeatureMap{Data: d, N: s[0], C: s[1], H: s[2], W: s[3]}
		}
		return fm
	}
	groups := groupByLevel(detection.MapRoILevels(rois, len(levels), o.FinestScale, o.Legacy), len(levels))
	bins := c * o.OutputSize * o.OutputSize
	levelCfg := func(l int) detection.RoIAlignConfig {
		lc := cfg
		lc.SpatialScale = 1 / float64(o.Strides[l])
		return lc
	}
	var ferr error
	forward := func(in [][]float32, out []float32) {
		fm := maps(in)
		for l, g := range groups {
			if len(g.idx) == 0 {
				continue
			}
			pooled, err := detection.RoIAlign(fm[l], g.rows(rois, 5), levelCfg(l))
			if err != nil {
				ferr = fmt.Errorf("level %d: %w", l, err)
				clear(out)
				return
			}
			g.scatter(out, pooled, bins)
		}
	}
	backward := func(dout []float32, in [][]float32, din [][]float32) {
		fm := maps(in)
		for l, g := range groups {
			if len(g.idx) == 0 || din[l] == nil {
				continue
			}
			grad, err := detection.RoIAlignBackward(g.rows(dout, bins), fm[l], g.rows(rois, 5), levelCfg(l))
			if err != nil {
				// The forward pass validated the same inputs, so this is a bug.
				panic(fmt.Sprintf("detector: roi align backward: level %d: %v", l, err))
			}
			d := din[l]
			for i, v := range grad {
				d[i] += v
			}
		}
	}
	out := tensor.Custom(levels[0].Engine(), []int{r, c, o.OutputSize, o.OutputSize}, levels, forward, backward)
	if ferr != nil {
		return nil, fmt.Errorf("roi extractor: %w", ferr)
	}
	return out, nil
}

// levelGroup lists the RoIs (by index) pooled from one level. When they are
// consecutive (RoIs sorted by level, as the RoI head's training targets
// are), their rows are used in place instead of being gathered.
type levelGroup struct {
	idx        []int
	contiguous bool
}

func groupByLevel(lv []int, numLevels int) []levelGroup {
	groups := make([]levelGroup, numLevels)
	for i, l := range lv {
		groups[l].idx = append(groups[l].idx, i)
	}
	for l := range groups {
		idx := groups[l].idx
		groups[l].contiguous = len(idx) > 0 && idx[len(idx)-1]-idx[0] == len(idx)-1
	}
	return groups
}

// rows returns the group's rows of width w from v: a sub-slice when
// contiguous, a gathered copy otherwise.
func (g levelGroup) rows(v []float32, w int) []float32 {
	if g.contiguous {
		return v[g.idx[0]*w : (g.idx[len(g.idx)-1]+1)*w]
	}
	out := make([]float32, 0, len(g.idx)*w)
	for _, i := range g.idx {
		out = append(out, v[i*w:(i+1)*w]...)
	}
	return out
}

// scatter writes the group's rows (width w) from src back to their places
// in dst.
func (g levelGroup) scatter(dst, src []float32, w int) {
	if g.contiguous {
		copy(dst[g.idx[0]*w:], src)
		return
	}
	for k, i := range g.idx {
		copy(dst[i*w:(i+1)*w], src[k*w:(k+1)*w])
	}
}
