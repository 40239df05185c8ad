package analysis

import (
	"fmt"
	"math"

	"github.com/detflow/detflow/coco"
)

// Confusion counts, over a data set, which category each detection was
// given against the category of the object it lies on. Rows are ground
// truth, columns predictions, both in Categories order with background
// last: row K counts detections on no object, column K objects no
// detection found.
type Confusion struct {
	Categories []coco.Category // K, ascending id
	ScoreThr   float64         // detections scoring below it are left out
	IoUThr     float64         // a detection is on an object from this IoU on
	Counts     [][]int64       // [K+1][K+1]
}

// ConfusionMatrix is MMDetection's confusion_matrix.py without its NMS:
// per image, every detection scoring ScoreThr or more is counted once for
// each object it overlaps with IoU >= iouThr (row the object's category,
// column its own), or once as background when it overlaps none; every
// object no detection of its own category overlaps counts as missed.
// Crowd regions are neither objects nor background: detections on them
// and the regions themselves are left out.
func ConfusionMatrix(gt *coco.Dataset, dets []coco.Detection, scoreThr, iouThr float64) (*Confusion, error) {
	if err := gt.CheckResults(dets, true); err != nil {
		return nil, fmt.Errorf("confusion matrix: %w", err)
	}
	if math.IsNaN(scoreThr) || math.IsNaN(iouThr) || iouThr <= 0 || iouThr > 1 {
		return nil, fmt.Errorf("confusion matrix: IoU threshold %v: want one in (0, 1]", iouThr)
	}
	c := &Confusion{ScoreThr: scoreThr, IoUThr: iouThr}
	rank := map[int64]int{}
	for i, id := range gt.CategoryIDs() {
		cat, _ := gt.Category(id)
		c.Categories = append(c.Categories, cat)
		rank[id] = i
	}
	K := len(c.Categories)
	c.Counts = make([][]int64, K+1)
	for i := range c.Counts {
		c.Counts[i] = make([]int64, K+1)
	}
	byImage := map[int64][]coco.Detection{}
	for _, d := range dets {
		if d.Score >= scoreThr {
			byImage[d.ImageID] = append(byImage[d.ImageID], d)
		}
	}
	for _, id := range gt.ImageIDs() {
		c.countImage(gt.ImageAnnotations(id), byImage[id], rank)
	}
	return c, nil
}

// countImage adds one image's counts.
func (c *Confusion) countImage(anns []coco.Annotation, dets []coco.Detection, rank map[int64]int) {
	K := len(c.Categories)
	found := make([]bool, len(anns))
	for _, d := range dets {
		col, onObject, onCrowd := rank[d.CategoryID], false, false
		for g, a := range anns {
			if iou(d.BBox, a.BBox, a.IsCrowd) < c.IoUThr {
				continue
			}
			if a.IsCrowd {
				onCrowd = true
				continue
			}
			onObject = true
			c.Counts[rank[a.CategoryID]][col]++
			if a.CategoryID == d.CategoryID {
				found[g] = true
			}
		}
		if !onObject && !onCrowd {
			c.Counts[K][col]++
		}
	}
	for g, a := range anns {
		if !a.IsCrowd && !found[g] {
			c.Counts[rank[a.CategoryID]][K]++
		}
	}
}

// iou is the intersection over union of detection a and object b, or as
// COCO measures a crowd region, over a's area alone (a detection inside a
// crowd is on it however small); 0 when they do not meet.
func iou(a, b coco.Box, crowd bool) float64 {
	w := min(a[0]+a[2], b[0]+b[2]) - max(a[0], b[0])
	h := min(a[1]+a[3], b[1]+b[3]) - max(a[1], b[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := w * h
	if crowd {
		return inter / a.Area()
	}
	return inter / (a.Area() + b.Area() - inter)
}

// Normalised is each row divided by its sum (0 for an empty row): the
// share of a category's objects (or of background detections) that went
// to each column.
func (c *Confusion) Normalised() [][]float64 {
	out := make([][]float64, len(c.Counts))
	for i, row := range c.Counts {
		out[i] = make([]float64, len(row))
		var sum int64
		for _, n := range row {
			sum += n
		}
		if sum == 0 {
			continue
		}
		for j, n := range row {
			out[i][j] = float64(n) / float64(sum)
		}
	}
	return out
}

// Labels are the rows' and columns' names: the categories, then
// "background".
func (c *Confusion) Labels() []string {
	out := make([]string, 0, len(c.Categories)+1)
	for _, cat := range c.Categories {
		out = append(out, cat.Name)
	}
	return append(out, "background")
}
