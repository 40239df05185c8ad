package coco

import (
	"context"
	"fmt"
	"io"
)

// EvaluateFiles loads a ground-truth instances file and a results file and
// runs COCOeval with the defaults of iou type t. Results on
// images the ground truth does not list are rejected (as pycocotools'
// loadRes does), and so are, for bbox, results of unknown categories
// (pycocotools would silently drop them); the error carries the counts.
func EvaluateFiles(ctx context.Context, gt, results io.Reader, t IoUType) (*Result, error) {
	p, err := NewParams(t)
	if err != nil {
		return nil, err
	}
	load := LoadDataset
	if s, _ := t.spec(); s.masks {
		load = LoadDatasetMasks
	}
	// The two files are independent: read them at once (the results reader
	// is serial, ground-truth masks are rasterised on all cores).
	var ds *Dataset
	var gtErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		ds, gtErr = load(ctx, gt)
	}()
	dets, err := readResults(ctx, results, t != Segm)
	<-done
	if gtErr != nil {
		return nil, fmt.Errorf("load ground truth: %w", gtErr)
	}
	if err != nil {
		return nil, fmt.Errorf("load results: %w", err)
	}
	return Evaluate(ctx, ds, dets, p)
}

// Evaluate runs evaluateImg for every image of gt on all cores, then one
// accumulate. Equal scores are ordered by Detection.ID: give detections made
// in memory the 1-based row they get in the results file written for them,
// and pycocotools on that file gives the same numbers.
func Evaluate(ctx context.Context, gt *Dataset, dets []Detection, p Params) (*Result, error) {
	if err := gt.CheckResults(dets, p.UseCats); err != nil {
		return nil, fmt.Errorf("check results: %w", err)
	}
	ev, err := NewEvaluator(gt, p)
	if err != nil {
		return nil, err
	}
	evals, err := ev.evaluateAll(ctx, ev.groupByImage(dets))
	if err != nil {
		return nil, err
	}
	acc := ev.NewAccumulator()
	for _, ie := range evals {
		if err := acc.Add(ie); err != nil {
			return nil, err
		}
	}
	return acc.Accumulate(ctx)
}

// groupByImage splits detections by image rank, keeping their order.
func (e *Evaluator) groupByImage(dets []Detection) [][]Detection {
	counts := make([]int, len(e.imageIDs))
	ranks := make([]int, len(dets))
	for i, d := range dets {
		ranks[i] = e.imageRank[d.ImageID]
		counts[ranks[i]]++
	}
	flat := make([]Detection, len(dets))
	groups := make([][]Detection, len(e.imageIDs))
	off := 0
	for r, c := range counts {
		groups[r] = flat[off : off : off+c]
		off += c
	}
	for i, d := range dets {
		groups[ranks[i]] = append(groups[ranks[i]], d)
	}
	return groups
}

// evaluateAll evaluates every image on all cores; images are handed out in
// small batches to keep the workers busy without contention.
func (e *Evaluator) evaluateAll(ctx context.Context, groups [][]Detection) ([]ImageEval, error) {
	const batch = 64
	out := make([]ImageEval, len(e.imageIDs))
	errs := make([]error, len(e.imageIDs))
	err := forEach(ctx, (len(out)+batch-1)/batch, func(b int) {
		for r := b * batch; r < min((b+1)*batch, len(out)); r++ {
			out[r], errs[r] = e.EvaluateImage(e.imageIDs[r], groups[r])
		}
	})
	if err != nil {
		return nil, fmt.Errorf("evaluate images: %w", err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
