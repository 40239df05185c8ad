package proposals

import (
	"context"
	"fmt"
	"time"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// recall streams a split's part files through COCO's proposal evaluation
// (useCats=0, maxDets 100/300/1000) and returns its metric rows, failing
// when an image of the ground truth has no row, a row names an image the
// ground truth lacks, or an image has two rows.
func recall(ctx context.Context, fsys *storage.FS, sp split, dir string) ([]coco.Metric, int, error) {
	p, err := coco.NewParams(coco.Proposal)
	if err != nil {
		return nil, 0, err
	}
	ev, err := coco.NewEvaluator(sp.GT, p)
	if err != nil {
		return nil, 0, err
	}
	acc := ev.NewAccumulator()
	seen := make(map[int64]bool, len(sp.GT.Images))
	var nextID int64 = 1 // the rows a results file of these proposals would give
	boxes := 0
	err = schemas.ForEachProposal(ctx, fsys, dir, func(r schemas.ImageProposals) error {
		if !sp.GT.HasImage(r.ImageID) {
			return fmt.Errorf("proposals %s: image %d is not in %s", dir, r.ImageID, sp.Annotations)
		}
		if seen[r.ImageID] {
			return fmt.Errorf("proposals %s: image %d listed twice", dir, r.ImageID)
		}
		seen[r.ImageID] = true
		dets := make([]coco.Detection, r.Len())
		for i := range dets {
			b := r.Box(i)
			w, h := float64(b[2]-b[0]), float64(b[3]-b[1])
			dets[i] = coco.Detection{ID: nextID, ImageID: r.ImageID, CategoryID: 1,
				BBox: coco.Box{float64(b[0]), float64(b[1]), w, h}, Score: float64(r.Scores[i]), Area: w * h}
			nextID++
		}
		boxes += len(dets)
		ie, err := ev.EvaluateImage(r.ImageID, dets)
		if err != nil {
			return err
		}
		return acc.Add(ie)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("evaluate proposal recall of split %q: %w", sp.Name, err)
	}
	if len(seen) != len(sp.GT.Images) {
		for _, im := range sp.GT.Images {
			if !seen[im.ID] {
				return nil, 0, fmt.Errorf("evaluate proposal recall of split %q: %d of %d images have no proposals row in %s; first: id %d (%s)",
					sp.Name, len(sp.GT.Images)-len(seen), len(sp.GT.Images), dir, im.ID, im.FileName)
			}
		}
	}
	res, err := acc.Accumulate(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("evaluate proposal recall of split %q: %w", sp.Name, err)
	}
	return res.Rows(), boxes, nil
}

// metricRows turns measured values into metrics table rows.
type metricRows struct {
	run, pipeline string
	created       time.Time
	rows          []schemas.Metric
}

func (m *metricRows) add(dataset, iouType, metric string, v float64) {
	m.rows = append(m.rows, schemas.Metric{
		Run: m.run, Pipeline: m.pipeline, Stage: stageName, Dataset: dataset,
		IoUType: iouType, Metric: metric, Value: v, Created: m.created,
	})
}
