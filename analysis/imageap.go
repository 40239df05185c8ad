package analysis

import (
	"context"
	"fmt"
	"math"

	"github.com/detflow/detflow/coco"
)

// ImageAPs returns each image's COCO AP (IoU .50:.95, area all, 100
// detections) with the image evaluated on its own, as MMDetection's
// analyze_results ranks images. An image with no ground truth has no AP
// (NaN): nothing in it could be found. progress, if not nil, is called
// after each image.
func ImageAPs(ctx context.Context, gt *coco.Dataset, dets []coco.Detection, t coco.IoUType, progress func(done, total int)) (map[int64]float64, error) {
	p, err := coco.NewParams(t)
	if err != nil {
		return nil, err
	}
	p.AreaRanges, p.MaxDets = p.AreaRanges[:1], []int{maxDets}
	if err := gt.CheckResults(dets, p.UseCats); err != nil {
		return nil, fmt.Errorf("image AP: %w", err)
	}
	ev, err := coco.NewEvaluator(gt, p)
	if err != nil {
		return nil, err
	}
	byImage := map[int64][]coco.Detection{}
	for _, d := range dets {
		byImage[d.ImageID] = append(byImage[d.ImageID], d)
	}
	ids := gt.ImageIDs()
	out := make(map[int64]float64, len(ids))
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ie, err := ev.EvaluateImage(id, byImage[id])
		if err != nil {
			return nil, fmt.Errorf("image AP: %w", err)
		}
		acc := ev.NewAccumulator()
		if err := acc.Add(ie); err != nil {
			return nil, fmt.Errorf("image AP: %w", err)
		}
		res, err := acc.Accumulate(ctx)
		if err != nil {
			return nil, fmt.Errorf("image AP: %w", err)
		}
		out[id] = res.Stats[0]
		if out[id] < 0 {
			out[id] = math.NaN() // COCOeval's -1: no ground truth
		}
		if progress != nil {
			progress(i+1, len(ids))
		}
	}
	return out, nil
}
