package coco

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// mustParams is NewParams for a type the test knows is supported.
func mustParams(t IoUType) Params {
	p, err := NewParams(t)
	if err != nil {
		panic(err)
	}
	return p
}

func TestUnknownIoUTypeIsAnError(t *testing.T) {
	ds, _ := loadCase(t, "edge")
	for _, typ := range []IoUType{"", "keypoints", "BBox", "SEGM"} {
		if _, err := NewParams(typ); err == nil || !strings.Contains(err.Error(), `unknown iou type "`+string(typ)+`"`) {
			t.Errorf("NewParams(%q) error %v", typ, err)
		}
		p := mustParams(BBox)
		p.IoUType = typ
		if _, err := NewEvaluator(ds, p); err == nil || !strings.Contains(err.Error(), `want one of ["bbox" "proposal" "segm"]`) {
			t.Errorf("NewEvaluator with iou type %q: error %v", typ, err)
		}
	}
}

func TestIoUTypeSelectsDefaults(t *testing.T) {
	for _, c := range []struct {
		typ     IoUType
		useCats bool
		maxDets []int
	}{{BBox, true, []int{1, 10, 100}}, {Proposal, false, []int{100, 300, 1000}}, {Segm, true, []int{1, 10, 100}}} {
		p := mustParams(c.typ)
		if p.IoUType != c.typ || p.UseCats != c.useCats || !slices.Equal(p.MaxDets, c.maxDets) {
			t.Errorf("NewParams(%q) = iou type %q, useCats %v, maxDets %v", c.typ, p.IoUType, p.UseCats, p.MaxDets)
		}
	}
}

// TestProposalIgnoresCategories relabels every detection: proposal recall
// must not move a bit, bbox AP must. Scores are made unique first, because
// pycocotools orders tied detections by category even with useCats=0.
func TestProposalIgnoresCategories(t *testing.T) {
	ds, dets := loadCase(t, "random")
	for i := range dets {
		dets[i].Score = 1 - float64(i)/float64(len(dets))
	}
	relabelled := slices.Clone(dets)
	cats := ds.CategoryIDs()
	for i := range relabelled {
		k := slices.Index(cats, relabelled[i].CategoryID)
		relabelled[i].CategoryID = cats[(k+1)%len(cats)]
	}
	eval := func(typ IoUType, dets []Detection) *Result {
		res, err := Evaluate(context.Background(), ds, dets, mustParams(typ))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := eval(Proposal, dets), eval(Proposal, relabelled)
	if !slices.Equal(a.Stats, b.Stats) || !slices.Equal(a.Precision, b.Precision) || !slices.Equal(a.Recall, b.Recall) {
		t.Errorf("proposal results depend on categories: stats %v vs %v", a.Stats, b.Stats)
	}
	if slices.Equal(eval(BBox, dets).Stats, eval(BBox, relabelled).Stats) {
		t.Error("bbox results do not depend on categories")
	}
}

// TestMetricNamesFollowTheIoUType: a detection type's rows are named by
// its type, so segm gets segm_mAP... from the same code.
func TestMetricNamesFollowTheIoUType(t *testing.T) {
	r := &Result{Params: mustParams(BBox), CategoryIDs: []int64{1}, CategoryNames: []string{"person"},
		Stats: make([]float64, 12), Precision: make([]float64, 10*101*1*4*3)}
	r.Params.IoUType = "segm"
	rows := detectionRows(r)
	if rows[0].Name != "segm_mAP" || rows[1].Name != "segm_mAP_50" || rows[8].Name != "segm_AR_100" || rows[12].Name != "AP/person" {
		t.Errorf("segm rows %v", rows)
	}
	r.Params.IoUType = "keypoints"
	if r.Rows() != nil {
		t.Error("Rows of an unsupported iou type are not nil")
	}
}

// TestEvaluatorMatchesByTheTypesIoU swaps the type's IoU function: the
// matching loop must use it, which is how mask IoU plugs in.
func TestEvaluatorMatchesByTheTypesIoU(t *testing.T) {
	ds, dets := loadCase(t, "edge")
	ev, err := NewEvaluator(ds, mustParams(BBox))
	if err != nil {
		t.Fatal(err)
	}
	ev.spec.computeIoU = func(_ imageSize, _ []Detection, _ []gtObject, ious []float64) error { clear(ious); return nil }
	res, err := Evaluate(context.Background(), ds, nil, mustParams(BBox))
	if err != nil {
		t.Fatal(err)
	}
	evals, err := ev.evaluateAll(context.Background(), ev.groupByImage(dets))
	if err != nil {
		t.Fatal(err)
	}
	acc := ev.NewAccumulator()
	for _, ie := range evals {
		if err := acc.Add(ie); err != nil {
			t.Fatal(err)
		}
	}
	got, err := acc.Accumulate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// No IoU reaches a threshold: as if there were no detections at all.
	if !slices.Equal(got.Recall, res.Recall) || !slices.Equal(got.Precision, res.Precision) {
		t.Errorf("stats with zero IoU %v, without detections %v", got.Stats, res.Stats)
	}
}
