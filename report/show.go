package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"slices"

	"github.com/detflow/detflow/analysis"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/pictures"
	"github.com/detflow/detflow/storage"
)

// ShowOptions choose what Show draws.
type ShowOptions struct {
	Images int     // the first N images by id, when neither IDs, Worst nor Best is set
	IDs    []int64 // these images
	Worst  int     // the N images of lowest AP
	Best   int     // the N images of highest AP
	Score  float64 // detections scoring below it are not drawn
	// GroundTruthOnly draws the ground truth without detections (the data
	// set: no evaluate stage needed), and proposals if asked.
	GroundTruthOnly bool
	Proposals       int // draw this many proposals per image too (0: none)
	// Progress, if not nil, is called after each image drawn, and
	// RankProgress after each image evaluated for Worst and Best.
	Progress     func(done, total int)
	RankProgress func(done, total int)
}

// Picture is one drawn image.
type Picture struct {
	ImageID int64
	Name    string // file name: what and which image, e.g. worst_01_image_42.png
	PNG     []byte
}

// Show draws the chosen images of d: the ground truth, beside it the
// detections (and proposals), as PNG.
func Show(ctx context.Context, fsys *storage.FS, d *EvalData, opt ShowOptions) ([]Picture, error) {
	picks, err := d.pick(ctx, opt)
	if err != nil {
		return nil, err
	}
	var out []Picture
	for i, p := range picks {
		img, err := d.Image(ctx, fsys, p.id)
		if err != nil {
			return nil, err
		}
		row, err := d.drawImage(img, p, opt)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := png.Encode(&b, row); err != nil {
			return nil, fmt.Errorf("encode image %d: %w", p.id, err)
		}
		out = append(out, Picture{ImageID: p.id, Name: p.name, PNG: b.Bytes()})
		if opt.Progress != nil {
			opt.Progress(i+1, len(picks))
		}
	}
	return out, nil
}

// pick is one image chosen to draw, with its AP when ranked by it.
type pick struct {
	id   int64
	name string
	ap   float64 // NaN when not ranked
}

// pick lists the images opt chooses; an id not in the split is an error.
func (d *EvalData) pick(ctx context.Context, opt ShowOptions) ([]pick, error) {
	switch {
	case len(opt.IDs) > 0:
		var out []pick
		for _, id := range opt.IDs {
			if _, ok := d.GT.Image(id); !ok {
				return nil, fmt.Errorf("image id %d is not in split %q of run %q (%d images, ids %d to %d)",
					id, d.Split, d.Run, len(d.GT.Images), d.GT.ImageIDs()[0], d.GT.ImageIDs()[len(d.GT.Images)-1])
			}
			out = append(out, pick{id: id, name: fmt.Sprintf("image_%d.png", id), ap: math.NaN()})
		}
		return out, nil
	case opt.Worst > 0 || opt.Best > 0:
		return d.rankByAP(ctx, opt)
	}
	ids := d.GT.ImageIDs()
	out := make([]pick, 0, min(opt.Images, len(ids)))
	for _, id := range ids[:min(opt.Images, len(ids))] {
		out = append(out, pick{id: id, name: fmt.Sprintf("image_%d.png", id), ap: math.NaN()})
	}
	return out, nil
}

// rankByAP picks the worst and best images by their own COCO AP (bbox, or
// segm when the run has only masks); images without ground truth have none
// and are never picked.
func (d *EvalData) rankByAP(ctx context.Context, opt ShowOptions) ([]pick, error) {
	t, dets, err := d.rankedDetections()
	if err != nil {
		return nil, err
	}
	aps, err := analysis.ImageAPs(ctx, d.GT, dets, t, opt.RankProgress)
	if err != nil {
		return nil, err
	}
	var ranked []pick
	for _, id := range d.GT.ImageIDs() {
		if !math.IsNaN(aps[id]) {
			ranked = append(ranked, pick{id: id, ap: aps[id]})
		}
	}
	// Ties in image-id order, so the pick is the same on every run.
	slices.SortStableFunc(ranked, func(a, b pick) int { return cmp.Compare(a.ap, b.ap) })
	var out []pick
	for i, p := range ranked[:min(opt.Worst, len(ranked))] {
		p.name = fmt.Sprintf("worst_%02d_image_%d.png", i+1, p.id)
		out = append(out, p)
	}
	for i := range min(opt.Best, len(ranked)) {
		p := ranked[len(ranked)-1-i]
		p.name = fmt.Sprintf("best_%02d_image_%d.png", i+1, p.id)
		out = append(out, p)
	}
	return out, nil
}

// rankedDetections are the detections that rank images: bbox, else segm.
func (d *EvalData) rankedDetections() (coco.IoUType, []coco.Detection, error) {
	for _, t := range []coco.IoUType{coco.BBox, coco.Segm} {
		if dets, ok := d.Dets[t]; ok {
			return t, dets, nil
		}
	}
	return "", nil, fmt.Errorf("run %q has no bbox or segm detections to rank images by AP", d.Run)
}

// minSide is the shorter side small images are enlarged to before
// drawing, so that labels fit.
const minSide = 240

// drawPanel draws items on img, enlarged when small.
func drawPanel(img image.Image, items []pictures.Item) (*image.RGBA, error) {
	big, items := pictures.Enlarge(img, items, minSide)
	return pictures.Draw(big, items)
}

// drawImage draws one image's panels.
func (d *EvalData) drawImage(img image.Image, p pick, opt ShowOptions) (*image.RGBA, error) {
	gt, err := drawPanel(img, d.groundTruthItems(p.id))
	if err != nil {
		return nil, fmt.Errorf("draw ground truth of image %d: %w", p.id, err)
	}
	im, _ := d.GT.Image(p.id)
	title := fmt.Sprintf("ground truth: image %d (%s)", p.id, im.FileName)
	panels := []pictures.Panel{{Title: title, Image: gt}}
	if !opt.GroundTruthOnly {
		t, dets := d.drawnDetections()
		det, err := drawPanel(img, d.detectionItems(p.id, dets, opt.Score))
		if err != nil {
			return nil, fmt.Errorf("draw detections of image %d: %w", p.id, err)
		}
		title = fmt.Sprintf("%s detections, score >= %.2f", t, opt.Score)
		if !math.IsNaN(p.ap) {
			title += fmt.Sprintf(", AP %.3f", p.ap)
		}
		panels = append(panels, pictures.Panel{Title: title, Image: det})
	}
	if opt.Proposals > 0 {
		props, err := drawPanel(img, d.proposalItems(p.id, opt.Proposals))
		if err != nil {
			return nil, fmt.Errorf("draw proposals of image %d: %w", p.id, err)
		}
		panels = append(panels, pictures.Panel{Title: fmt.Sprintf("top %d proposals", opt.Proposals), Image: props})
	}
	return pictures.Row(panels), nil
}

// drawnDetections are the detections drawn: segm's (boxes and masks) when
// the run wrote them, else bbox's.
func (d *EvalData) drawnDetections() (coco.IoUType, []coco.Detection) {
	for _, t := range []coco.IoUType{coco.Segm, coco.BBox, coco.Proposal} {
		if dets, ok := d.Dets[t]; ok {
			return t, dets
		}
	}
	return coco.BBox, nil
}

// categoryIndex is a category id's rank: its colour.
func (d *EvalData) categoryIndex(id int64) int {
	i, _ := slices.BinarySearch(d.GT.CategoryIDs(), id)
	return i
}

func (d *EvalData) categoryName(id int64) string {
	if c, ok := d.GT.Category(id); ok {
		return c.Name
	}
	return fmt.Sprintf("category %d", id)
}

// groundTruthItems are an image's objects, crowd regions thin and marked.
func (d *EvalData) groundTruthItems(id int64) []pictures.Item {
	var items []pictures.Item
	for _, a := range d.GT.ImageAnnotations(id) {
		text := d.categoryName(a.CategoryID)
		if a.IsCrowd {
			text += " (crowd)"
		}
		items = append(items, pictures.Item{Box: a.BBox, Class: d.categoryIndex(a.CategoryID), Text: text,
			Mask: a.Segmentation, Thin: a.IsCrowd})
	}
	return items
}

// detectionItems are an image's detections scoring minScore or more, best
// first so that the most confident labels get the best spots.
func (d *EvalData) detectionItems(id int64, dets []coco.Detection, minScore float64) []pictures.Item {
	var mine []coco.Detection
	for _, dt := range dets {
		if dt.ImageID == id && dt.Score >= minScore {
			mine = append(mine, dt)
		}
	}
	slices.SortStableFunc(mine, func(a, b coco.Detection) int { return cmp.Compare(b.Score, a.Score) })
	items := make([]pictures.Item, 0, len(mine))
	for _, dt := range mine {
		it := pictures.Item{Box: dt.BBox, Class: d.categoryIndex(dt.CategoryID),
			Text: fmt.Sprintf("%s %.2f", d.categoryName(dt.CategoryID), dt.Score)}
		if !dt.Segmentation.IsZero() {
			if m, err := dt.Segmentation.Decode(); err == nil {
				it.Mask = &m
			}
		}
		items = append(items, it)
	}
	return items
}

// proposalItems are an image's n best proposals, thin and unlabelled.
func (d *EvalData) proposalItems(id int64, n int) []pictures.Item {
	mine := d.Proposals[id]
	var items []pictures.Item
	for _, b := range mine[:min(n, len(mine))] {
		items = append(items, pictures.Item{Box: b, Class: 0, Thin: true})
	}
	return items
}

// WritePictures writes pictures into dir and returns their paths.
func WritePictures(ctx context.Context, fsys *storage.FS, pics []Picture, dir string) ([]string, error) {
	var paths []string
	for _, p := range pics {
		path := storage.Join(dir, p.Name)
		if _, err := fsys.WriteFile(ctx, path, p.PNG); err != nil {
			return nil, fmt.Errorf("write picture: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
