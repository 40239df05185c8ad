package report

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // data sets are JPEG (synthetic, COCO) or PNG
	_ "image/png"
	"io/fs"
	"slices"
	"strings"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

// Stage folders that pictures and analyses read.
const (
	datasetStage  = "dataset"
	evaluateStage = "evaluate"
	// evalSplit is the split the evaluate stage runs on.
	evalSplit = "val"
)

// EvalData is what pictures and analyses of a run are drawn from: one
// split's ground truth and images, and, for the evaluated split, the run's
// detections of each iou type it wrote a results file for.
type EvalData struct {
	Run       string
	Split     string
	GT        *coco.Dataset
	ImageRoot string
	// Dets holds the results files' detections by iou type (bbox, segm,
	// proposal); empty for a split the run did not evaluate.
	Dets map[coco.IoUType][]coco.Detection
	// Proposals are each image's proposals, best first, once
	// LoadProposals has read them.
	Proposals map[int64][]coco.Box
}

// LoadEvalData reads a run's split from its published dataset stage and,
// when detections is set, its evaluate stage's results files. Ground-truth
// masks are loaded when the run wrote segm results, so both can be drawn.
func LoadEvalData(ctx context.Context, fsys *storage.FS, r *Run, split string, detections bool) (*EvalData, error) {
	if !r.HasStage(datasetStage) {
		return nil, fmt.Errorf("run %q has no published %s stage: pictures need its data set", r.Name, datasetStage)
	}
	desc, err := dataset.ReadDescriptor(ctx, fsys, storage.Join(r.Dir, datasetStage))
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", r.Name, err)
	}
	loc, err := desc.Split(split)
	if err != nil {
		return nil, fmt.Errorf("run %q: %w (splits: %s)", r.Name, err, splitNames(desc))
	}
	d := &EvalData{Run: r.Name, Split: split, ImageRoot: loc.ImageRoot, Dets: map[coco.IoUType][]coco.Detection{}}
	if detections {
		if err := d.loadDetections(ctx, fsys, r); err != nil {
			return nil, err
		}
	}
	// Masks are drawn for a data set's ground truth, and beside segm results.
	_, segm := d.Dets[coco.Segm]
	masks := segm || !detections
	if d.GT, err = LoadGroundTruth(ctx, fsys, loc.Annotations, masks); err != nil {
		return nil, fmt.Errorf("run %q: %w", r.Name, err)
	}
	return d, nil
}

// LoadGroundTruth reads a COCO instances file, with its masks when masks is
// set.
func LoadGroundTruth(ctx context.Context, fsys *storage.FS, path string, masks bool) (*coco.Dataset, error) {
	b, err := fsys.ReadFile(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	load := coco.LoadDataset
	if masks {
		load = coco.LoadDatasetMasks
	}
	gt, err := load(ctx, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("load ground truth %s: %w", path, err)
	}
	return gt, nil
}

func splitNames(d *dataset.Descriptor) string {
	var names []string
	for _, s := range d.Splits {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// loadDetections reads every results file the evaluate stage published.
func (d *EvalData) loadDetections(ctx context.Context, fsys *storage.FS, r *Run) error {
	if !r.HasStage(evaluateStage) {
		return fmt.Errorf("run %q has no published %s stage: detections come from it (or draw the ground truth alone with --data)", r.Name, evaluateStage)
	}
	if d.Split != evalSplit {
		return fmt.Errorf("run %q evaluates split %q only, not %q (draw its ground truth with --data)", r.Name, evalSplit, d.Split)
	}
	for _, t := range coco.IoUTypes() {
		p := storage.Join(r.Dir, evaluateStage, "results."+string(t)+".json")
		b, err := fsys.ReadFile(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read detections: %w", err)
		}
		dets, err := coco.ReadResults(ctx, bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("read detections %s: %w", p, err)
		}
		d.Dets[t] = dets
	}
	if len(d.Dets) == 0 {
		return fmt.Errorf("run %q: its %s stage has no results.<iou type>.json file", r.Name, evaluateStage)
	}
	return nil
}

// Image decodes an image of the split.
func (d *EvalData) Image(ctx context.Context, fsys *storage.FS, id int64) (image.Image, error) {
	im, ok := d.GT.Image(id)
	if !ok {
		return nil, fmt.Errorf("image id %d is not in split %q of run %q", id, d.Split, d.Run)
	}
	p := storage.Join(d.ImageRoot, im.FileName)
	b, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read image %d: %w", id, err)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode image %d (%s): %w", id, p, err)
	}
	return img, nil
}

// HasStage reports whether the run has published the named stage.
func (r *Run) HasStage(name string) bool {
	for _, s := range r.Stages {
		if s.Name == name {
			return true
		}
	}
	return false
}

// LoadProposals reads the split's proposals: the run's proposals table
// (what a Fast R-CNN trained and was tested on), else the evaluate stage's
// proposal results (an RPN's). A run with neither is an error.
func (d *EvalData) LoadProposals(ctx context.Context, fsys *storage.FS, c *Catalog) error {
	d.Proposals = map[int64][]coco.Box{}
	rows, err := readAll[schemas.ImageProposals](ctx, fsys, c, d.Run, schemas.Proposals)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.Split != d.Split {
			continue
		}
		boxes := make([]coco.Box, r.Len())
		for i := range boxes {
			b := r.Box(i) // x1, y1, x2, y2, sorted by score already
			boxes[i] = coco.Box{float64(b[0]), float64(b[1]), float64(b[2] - b[0]), float64(b[3] - b[1])}
		}
		d.Proposals[r.ImageID] = boxes
	}
	if len(d.Proposals) > 0 {
		return nil
	}
	dets, ok := d.Dets[coco.Proposal]
	if !ok {
		return fmt.Errorf("run %q has no proposals of split %q: neither a proposals table nor results.proposal.json", d.Run, d.Split)
	}
	dets = slices.Clone(dets)
	slices.SortStableFunc(dets, func(a, b coco.Detection) int { return cmp.Compare(b.Score, a.Score) })
	for _, dt := range dets {
		d.Proposals[dt.ImageID] = append(d.Proposals[dt.ImageID], dt.BBox)
	}
	return nil
}
