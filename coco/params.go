package coco

import (
	"fmt"
	"slices"
)

// AreaRange is one of COCOeval's object size buckets: an object belongs to it
// when Min <= area <= Max (both ends inclusive, as in pycocotools).
type AreaRange struct {
	Label    string
	Min, Max float64
}

// Params are COCOeval's parameters. Only the defaults NewParams returns
// give pycocotools' 12 summary stats; other values are evaluated the same
// way but summarised as pycocotools would (missing buckets print -1).
type Params struct {
	IoUType          IoUType     // how detections meet ground truth; names the metrics
	IoUThresholds    []float64   // T thresholds, at most 32
	RecallThresholds []float64   // R recall points
	AreaRanges       []AreaRange // A buckets
	MaxDets          []int       // M detection caps per image, ascending
	UseCats          bool        // false: categories ignored (Proposal's default)
}

// linspace reproduces numpy.linspace(start, stop, num) bit for bit: i*step +
// start with the last point set to stop. COCOeval's thresholds come from it,
// and 0.8999999999999999 (not 0.9) is one of them.
func linspace(start, stop float64, num int) []float64 {
	out := make([]float64, num)
	step := (stop - start) / float64(num-1)
	for i := range out {
		out[i] = float64(i)*step + start
	}
	out[num-1] = stop
	return out
}

// defaultAreaRanges are COCOeval's all/small/medium/large buckets.
func defaultAreaRanges() []AreaRange {
	return []AreaRange{
		{"all", 0, 1e5 * 1e5},
		{"small", 0, 32 * 32},
		{"medium", 32 * 32, 96 * 96},
		{"large", 96 * 96, 1e5 * 1e5},
	}
}

// NewParams returns COCOeval's defaults for an iou type, as pycocotools'
// Params(iouType) does: IoU .50:.95, 101 recall points, four area ranges,
// and the type's maxDets and useCats.
func NewParams(t IoUType) (Params, error) {
	s, err := t.spec()
	if err != nil {
		return Params{}, err
	}
	return Params{
		IoUType:          t,
		IoUThresholds:    linspace(0.5, 0.95, 10),
		RecallThresholds: linspace(0, 1, 101),
		AreaRanges:       defaultAreaRanges(),
		MaxDets:          append([]int(nil), s.maxDets...),
		UseCats:          s.useCats,
	}, nil
}

func (p Params) validate() error {
	if _, err := p.IoUType.spec(); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	switch {
	case len(p.IoUThresholds) == 0 || len(p.IoUThresholds) > 32:
		return fmt.Errorf("params: want 1 to 32 IoU thresholds, got %d", len(p.IoUThresholds))
	case len(p.RecallThresholds) == 0:
		return fmt.Errorf("params: no recall thresholds")
	case !slices.IsSorted(p.RecallThresholds):
		return fmt.Errorf("params: recall thresholds not ascending")
	case len(p.AreaRanges) == 0:
		return fmt.Errorf("params: no area ranges")
	case len(p.MaxDets) == 0:
		return fmt.Errorf("params: no maxDets")
	case !slices.IsSorted(p.MaxDets) || p.MaxDets[0] < 1:
		return fmt.Errorf("params: maxDets %v not positive and ascending", p.MaxDets)
	}
	return nil
}

// maxDet is the cap per image and category that evaluateImg applies.
func (p Params) maxDet() int { return p.MaxDets[len(p.MaxDets)-1] }
