package coco

import (
	"fmt"
	"slices"
)

// Evaluation kinds accepted by EvaluateFiles.
const (
	KindBBox     = "bbox"     // per-category box detection (COCOeval iouType="bbox")
	KindProposal = "proposal" // class-agnostic proposal recall (useCats=0, maxDets 100/300/1000)
)

// AreaRange is one of COCOeval's object size buckets: an object belongs to it
// when Min <= area <= Max (both ends inclusive, as in pycocotools).
type AreaRange struct {
	Label    string
	Min, Max float64
}

// Params are COCOeval's parameters. Only the defaults returned by
// BBoxParams and ProposalParams give pycocotools' 12 summary stats; other
// values are evaluated the same way but summarised as pycocotools would
// (missing buckets print -1).
type Params struct {
	IoUThresholds    []float64   // T thresholds, at most 32
	RecallThresholds []float64   // R recall points
	AreaRanges       []AreaRange // A buckets
	MaxDets          []int       // M detection caps per image, ascending
	UseCats          bool        // false: categories ignored (proposal recall)
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

// BBoxParams returns COCOeval's defaults for iouType="bbox".
func BBoxParams() Params {
	return Params{
		IoUThresholds:    linspace(0.5, 0.95, 10),
		RecallThresholds: linspace(0, 1, 101),
		AreaRanges:       defaultAreaRanges(),
		MaxDets:          []int{1, 10, 100},
		UseCats:          true,
	}
}

// ProposalParams returns the settings the model zoo's proposal recall uses:
// bbox defaults with useCats=0 and maxDets [100, 300, 1000].
func ProposalParams() Params {
	p := BBoxParams()
	p.UseCats = false
	p.MaxDets = []int{100, 300, 1000}
	return p
}

// ParamsFor returns the parameters of an evaluation kind.
func ParamsFor(kind string) (Params, error) {
	switch kind {
	case KindBBox:
		return BBoxParams(), nil
	case KindProposal:
		return ProposalParams(), nil
	default:
		return Params{}, fmt.Errorf("unknown evaluation kind %q (want %q or %q)", kind, KindBBox, KindProposal)
	}
}

func (p Params) validate() error {
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
