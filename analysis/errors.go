package analysis

import (
	"context"
	"fmt"

	"github.com/detflow/detflow/coco"
)

// Error kinds of ErrorCurves, in coco_error_analysis' order: each curve
// forgives one more kind of error than the one before it.
const (
	C75 = iota // PR at IoU .75
	C50        // PR at IoU .50
	Loc        // PR at IoU .10: localisation errors forgiven
	Sim        // and detections on objects of the same supercategory ignored
	Oth        // and detections on objects of any other category ignored
	BG         // and every false positive removed: precision 1 up to Oth's recall
	FN         // and every object found: precision 1 everywhere
	NumKinds
)

// KindNames name the error kinds as coco_error_analysis' legends do.
var KindNames = [NumKinds]string{"C75", "C50", "Loc", "Sim", "Oth", "BG", "FN"}

// confusionIoU is the overlap at which a detection counts as being on an
// object (Loc, Sim, Oth), as in coco_error_analysis.
const confusionIoU = 0.1

// maxDets is the detections kept per image and category.
const maxDets = 100

// ErrorCurves are precision curves over the recall thresholds, for every
// error kind, category and area range. Cells without ground truth (-1 in
// COCOeval) are 0, as coco_error_analysis plots them.
type ErrorCurves struct {
	IoUType    coco.IoUType
	Recall     []float64               // R recall thresholds
	Areas      []string                // A area range labels: all, small, medium, large
	Categories []coco.Category         // K, ascending id
	Precision  [NumKinds][][][]float64 // [kind][k][a][r]
}

// AnalyzeErrors computes the error curves of dets against gt. It runs one
// evaluation at IoU .75/.5/.1 and, per category, two at IoU .1 with the
// objects of other categories turned into crowd regions of this one (those
// of its supercategory for Sim, all for Oth): a detection on a crowd region
// is ignored, which is how the curves forgive confusions. progress, if not
// nil, is called after each category.
func AnalyzeErrors(ctx context.Context, gt *coco.Dataset, dets []coco.Detection, t coco.IoUType, progress func(done, total int)) (*ErrorCurves, error) {
	p, err := errorParams(t, 0.75, 0.5, confusionIoU)
	if err != nil {
		return nil, err
	}
	res, err := coco.Evaluate(ctx, gt, dets, p)
	if err != nil {
		return nil, fmt.Errorf("error analysis: %w", err)
	}
	ec := newErrorCurves(gt, p)
	for i, kind := range []int{C75, C50, Loc} {
		ec.fill(kind, func(k, a, r int) float64 { return res.PrecisionAt(i, r, k, a, 0) })
	}
	byCat := map[int64][]coco.Detection{}
	for _, d := range dets {
		byCat[d.CategoryID] = append(byCat[d.CategoryID], d)
	}
	for k, c := range ec.Categories {
		for _, kind := range []int{Sim, Oth} {
			if err := ec.confusionForgiven(ctx, gt, byCat[c.ID], k, kind); err != nil {
				return nil, err
			}
		}
		if progress != nil {
			progress(k+1, len(ec.Categories))
		}
	}
	for k := range ec.Categories {
		for a := range ec.Areas {
			for r, v := range ec.Precision[Oth][k][a] {
				ec.Precision[BG][k][a][r] = boolFloat(v > 0)
				ec.Precision[FN][k][a][r] = 1
			}
		}
	}
	return ec, nil
}

// errorParams are COCOeval's defaults for t at the given IoU thresholds,
// keeping 100 detections per image.
func errorParams(t coco.IoUType, ious ...float64) (coco.Params, error) {
	p, err := coco.NewParams(t)
	if err != nil {
		return coco.Params{}, err
	}
	if !p.UseCats {
		return coco.Params{}, fmt.Errorf("error analysis: iou type %q ignores categories; want bbox or segm", t)
	}
	p.IoUThresholds, p.MaxDets = ious, []int{maxDets}
	return p, nil
}

func newErrorCurves(gt *coco.Dataset, p coco.Params) *ErrorCurves {
	ec := &ErrorCurves{IoUType: p.IoUType, Recall: p.RecallThresholds}
	for _, a := range p.AreaRanges {
		ec.Areas = append(ec.Areas, a.Label)
	}
	for _, id := range gt.CategoryIDs() {
		c, _ := gt.Category(id)
		ec.Categories = append(ec.Categories, c)
	}
	for kind := range ec.Precision {
		ec.Precision[kind] = make([][][]float64, len(ec.Categories))
		for k := range ec.Categories {
			ec.Precision[kind][k] = make([][]float64, len(ec.Areas))
			for a := range ec.Areas {
				ec.Precision[kind][k][a] = make([]float64, len(ec.Recall))
			}
		}
	}
	return ec
}

// fill sets one kind's cells from at(k, a, r), with -1 (no ground truth) as 0.
func (ec *ErrorCurves) fill(kind int, at func(k, a, r int) float64) {
	for k, byArea := range ec.Precision[kind] {
		for a, curve := range byArea {
			for r := range curve {
				curve[r] = max(at(k, a, r), 0)
			}
		}
	}
}

// confusionForgiven fills category k's Sim or Oth curves: k's detections
// against the ground truth with the other categories' objects (of k's
// supercategory for Sim) relabelled as crowd regions of k.
func (ec *ErrorCurves) confusionForgiven(ctx context.Context, gt *coco.Dataset, dets []coco.Detection, k, kind int) error {
	cat := ec.Categories[k]
	sup := map[int64]bool{}
	for _, c := range ec.Categories {
		sup[c.ID] = kind == Oth || c.Supercategory == cat.Supercategory
	}
	anns := make([]coco.Annotation, len(gt.Annotations))
	for i, a := range gt.Annotations {
		if a.CategoryID != cat.ID && sup[a.CategoryID] {
			a.CategoryID, a.IsCrowd = cat.ID, true
		}
		anns[i] = a
	}
	relabelled, err := coco.NewDataset(gt.Images, anns, gt.Categories)
	if err != nil {
		return fmt.Errorf("error analysis of %q: %w", cat.Name, err)
	}
	p, err := errorParams(ec.IoUType, confusionIoU)
	if err != nil {
		return err
	}
	res, err := coco.Evaluate(ctx, relabelled, dets, p)
	if err != nil {
		return fmt.Errorf("error analysis of %q (%s): %w", cat.Name, KindNames[kind], err)
	}
	for a, curve := range ec.Precision[kind][k] {
		for r := range curve {
			curve[r] = max(res.PrecisionAt(0, r, k, a, 0), 0)
		}
	}
	return nil
}

// Mean is the curve of all categories together (their mean at each recall
// threshold), as coco_error_analysis' "allclass" plot draws it.
func (ec *ErrorCurves) Mean(kind, a int) []float64 {
	out := make([]float64, len(ec.Recall))
	for _, byArea := range ec.Precision[kind] {
		for r, v := range byArea[a] {
			out[r] += v
		}
	}
	for r := range out {
		out[r] /= float64(max(len(ec.Categories), 1))
	}
	return out
}

// AP is the area under a curve as COCOeval measures it: the mean precision
// over the recall thresholds.
func AP(curve []float64) float64 {
	s := 0.0
	for _, v := range curve {
		s += v
	}
	return s / float64(max(len(curve), 1))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
