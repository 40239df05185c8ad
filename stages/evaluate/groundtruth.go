package evaluate

import (
	"context"
	"fmt"
	"slices"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/storage"
)

// loadGroundTruth reads a split's COCO instances file, with the
// segmentations when masks is set (segm evaluation; polygons cost time and
// memory that box evaluation does not need).
func loadGroundTruth(ctx context.Context, fsys *storage.FS, path string, masks bool) (*coco.Dataset, error) {
	r, err := fsys.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open ground truth: %w", err)
	}
	defer r.Close()
	load := coco.LoadDataset
	if masks {
		load = coco.LoadDatasetMasks
	}
	ds, err := load(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("load ground truth %s: %w", path, err)
	}
	return ds, nil
}

// needsMasks reports whether the iou types evaluate masks.
func needsMasks(kinds []string) bool { return slices.Contains(kinds, string(coco.Segm)) }

// params are COCOeval's parameters for an iou type (a config string);
// proposal recall is measured at evaluate.proposal_max_dets.
func params(kind string, proposalMaxDets []int) (coco.Params, error) {
	p, err := coco.NewParams(coco.IoUType(kind))
	if err != nil {
		return coco.Params{}, err
	}
	if p.IoUType == coco.Proposal && len(proposalMaxDets) > 0 {
		p.MaxDets = append([]int(nil), proposalMaxDets...)
	}
	return p, nil
}

// evaluators prepares one COCOeval per iou type over gt.
func evaluators(gt *coco.Dataset, kinds []string, proposalMaxDets []int) (map[string]*coco.Evaluator, error) {
	out := make(map[string]*coco.Evaluator, len(kinds))
	for _, kind := range kinds {
		p, err := params(kind, proposalMaxDets)
		if err != nil {
			return nil, err
		}
		if out[kind], err = coco.NewEvaluator(gt, p); err != nil {
			return nil, fmt.Errorf("iou type %s: %w", kind, err)
		}
	}
	return out, nil
}
