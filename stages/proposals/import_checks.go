package proposals

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/detection"
)

// Values of proposals.file.non_finite.
const (
	NonFiniteError = "error" // refuse the file, naming the images
	NonFiniteDrop  = "drop"  // drop those proposals with a warning
)

// importOptions are the import rules beyond format and top-k. The zero
// value refuses non-finite values and logs nowhere.
type importOptions struct {
	NonFinite string
	Log       *slog.Logger
}

func (o importOptions) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// checkFinite counts proposals with a NaN or infinite coordinate or score.
// An importer that silently dropped them left images with no proposals.
func checkFinite(path string, sp split, entries []entry, opt importOptions) error {
	var bad, images int
	var first []string
	for i, e := range entries {
		n := nonFinite(e)
		if n == 0 {
			continue
		}
		bad += n
		images++
		if len(first) < 3 {
			first = append(first, fmt.Sprintf("id %d (%s): %d", sp.GT.Images[i].ID, sp.GT.Images[i].FileName, n))
		}
	}
	if bad == 0 {
		return nil
	}
	what := fmt.Sprintf("%d proposals with NaN or infinite values in %d images of split %q; first: %s",
		bad, images, sp.Name, strings.Join(first, ", "))
	if opt.NonFinite == NonFiniteDrop {
		opt.log().Warn("dropping non-finite proposals", "file", path, "detail", what)
		return nil
	}
	return fmt.Errorf("import proposals %s: %s (set proposals.file.non_finite=drop to drop them with a warning)", path, what)
}

func nonFinite(e entry) int {
	n := 0
	for i := 0; 4*i+3 < len(e.boxes); i++ {
		b := e.boxes[4*i : 4*i+4]
		ok := finite(b[0]) && finite(b[1]) && finite(b[2]) && finite(b[3])
		if e.scores != nil && i < len(e.scores) {
			ok = ok && finite(e.scores[i])
		}
		if !ok {
			n++
		}
	}
	return n
}

// orderSuspect: a list file in the right order recalls several times more
// ground truth than the same file shifted by one image; in the wrong order
// (mmdetection #3017, all images of one size so nothing else catches it)
// both are at chance level.
const orderSuspect = 2.0

// checkOrder warns when a list-layout file recalls about as much ground
// truth (IoU >= 0.5, the top-k kept) as the same file shifted by one image:
// its image order then likely differs from the annotation file's.
func checkOrder(path, layout string, sp split, finished [][]float32, opt importOptions) {
	if len(finished) < 2 {
		return
	}
	given := recallAt50(sp.GT, finished, 0)
	shifted := recallAt50(sp.GT, finished, 1)
	if given.total == 0 || given.rate() > orderSuspect*shifted.rate() {
		return
	}
	opt.log().Warn("proposals recall no better than chance: the file's image order likely differs from the annotation file's",
		"file", path, "layout", layout, "split", sp.Name, "annotations", sp.Annotations,
		"recall_at_iou_0.5", given.rate(), "recall_shifted_by_one_image", shifted.rate(),
		"hint", "list layouts are matched by position: regenerate the file over this annotation file, or use a layout keyed by image id")
}

type hits struct{ found, total int }

func (h hits) rate() float64 { return float64(h.found) / float64(max(h.total, 1)) }

// recallAt50 matches image i's ground truth with the boxes of image i+shift.
func recallAt50(gt *coco.Dataset, boxes [][]float32, shift int) hits {
	var h hits
	for i, im := range gt.Images {
		props := boxes[(i+shift)%len(boxes)]
		for _, a := range gt.ImageAnnotations(im.ID) {
			if a.IsCrowd {
				continue
			}
			h.total++
			if coveredAt50(a.BBox, props) {
				h.found++
			}
		}
	}
	return h
}

// coveredAt50 reports whether a proposal overlaps gt box g (COCO xywh) at
// IoU 0.5 or more, by the IoU the assigners use.
func coveredAt50(g coco.Box, props []float32) bool {
	gt := []float32{float32(g[0]), float32(g[1]), float32(g[0] + g[2]), float32(g[1] + g[3])}
	for _, iou := range detection.BoxIoU(gt, props[:len(props)/4*4], false) {
		if iou >= 0.5 {
			return true
		}
	}
	return false
}
