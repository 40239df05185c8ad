package proposals

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/storage"
)

// Proposal file formats, the values of proposals.file.format.
//
//	mmdet       MMDetection v0-v2 pickle: a list with one float array per
//	            image, (n,4) x1,y1,x2,y2 or (n,5) with a score column, in the
//	            annotation file's image order
//	mmdet3      MMDetection 3.x pickle (DumpProposals): a dict keyed by
//	            "<image folder name>/<file name>" whose values hold bboxes
//	            (n,4) and scores (n,), as dicts or InstanceData objects
//	detectron   Detectron pickle: {boxes: [(n,4)], scores: [(n,)], ids or
//	            indexes: [image id]}, any order (Detectron sorts by id)
//	detectron2  Detectron2 pickle: {ids, boxes, objectness_logits, bbox_mode}
//	            with bbox_mode XYXY_ABS (0, the default) or XYWH_ABS (1);
//	            ids may be ints or strings; logits become sigmoid scores
//	json        a JSON array of {image_id, boxes: [[x1,y1,x2,y2], ...],
//	            scores: [...]} (scores optional), or a COCO results array of
//	            {image_id, bbox: [x,y,w,h], score} rows (category ignored)
//	parquet     detflow's proposals table: one part file, or a folder of
//	            them (another run's proposals/<split>)
//	auto        detect from the content: Parquet magic, JSON, or a pickle
//	            whose structure names the layout
//
// Files without scores (mmdet (n,4), JSON without scores) keep their order:
// proposal i of n gets score 1 - i/n.
const (
	FormatAuto       = "auto"
	FormatMMDet      = "mmdet"
	FormatMMDet3     = "mmdet3"
	FormatDetectron  = "detectron"
	FormatDetectron2 = "detectron2"
	FormatJSON       = "json"
	FormatParquet    = "parquet"
)

// entry is one image's proposals as a file holds them.
type entry struct {
	boxes  []float32 // flat x1, y1, x2, y2
	scores []float32 // nil when the file has none
}

// fileProposals is a decoded proposals file, before matching it to the
// annotation file. Exactly one keying is used: positions (mmdet), image ids,
// or "<dir>/<file>" keys (mmdet3).
type fileProposals struct {
	path    string
	layout  string
	byOrder bool
	ids     []int64
	keys    []string
	entries []entry
}

// MismatchError is a proposals file that does not fit the annotation file:
// wrong count, order, ids or keys (the failure of mmdetection #3017).
type MismatchError struct {
	File        string // the proposals file
	Layout      string
	Annotations string // the annotation file
	Expected    int    // images in the annotation file
	Found       int    // entries in the proposals file
	First       string // the first mismatching image
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("proposals file %s (%s layout) does not match annotation file %s: expected %d images, found %d entries; first mismatch: %s",
		e.File, e.Layout, e.Annotations, e.Expected, e.Found, e.First)
}

// importFile reads and decodes a proposals file of the given format.
func importFile(ctx context.Context, fsys *storage.FS, p, format string) (*fileProposals, error) {
	info, err := fsys.Stat(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("import proposals: %w", err)
	}
	if info.IsDir {
		if format != FormatAuto && format != FormatParquet {
			return nil, fmt.Errorf("import proposals %s: a folder, but proposals.file.format is %q (only parquet part folders are folders)", p, format)
		}
		return importParquetDir(ctx, fsys, p)
	}
	data, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("import proposals: %w", err)
	}
	kind := sniff(data)
	switch format {
	case FormatAuto:
	case FormatMMDet, FormatMMDet3, FormatDetectron, FormatDetectron2:
		if kind != "pickle" {
			return nil, fmt.Errorf("import proposals %s: proposals.file.format is %q, a pickle layout, but the file looks like %s", p, format, kind)
		}
	case FormatJSON, FormatParquet:
		if kind != format {
			return nil, fmt.Errorf("import proposals %s: proposals.file.format is %q but the file looks like %s", p, format, kind)
		}
	default:
		return nil, fmt.Errorf("proposals.file.format %q: want auto, mmdet, mmdet3, detectron, detectron2, json or parquet", format)
	}
	var fp *fileProposals
	switch kind {
	case "parquet":
		fp, err = importParquet(data)
	case "json":
		fp, err = importJSON(data)
	default:
		want := format
		if want == FormatAuto {
			want = ""
		}
		fp, err = importPickle(data, want)
	}
	if err != nil {
		return nil, fmt.Errorf("import proposals %s: %w", p, err)
	}
	fp.path = p
	return fp, nil
}

// sniff tells Parquet, JSON and pickle apart by their first bytes. No pickle
// starts with '[' or '{' (those are not opcodes that can open one).
func sniff(data []byte) string {
	if bytes.HasPrefix(data, []byte("PAR1")) {
		return "parquet"
	}
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) > 0 && (t[0] == '[' || t[0] == '{') {
		return "json"
	}
	return "pickle"
}

// match aligns the file's entries with the split's images (annotation file
// order) and checks that every image has exactly one entry, every entry
// names an image, and the boxes fit the images they are matched to: when a
// quarter or more of an image's boxes extend past it by more than 1 px + 1%,
// the file was made for other images (for the mmdet layout: in another
// order). Producers clip proposals to their image, so this does not fire on
// good files; it cannot catch a wrong order among images of one size.
func (fp *fileProposals) match(sp split) ([]entry, error) {
	imgs := sp.GT.Images
	mismatch := func(first string, args ...any) error {
		return &MismatchError{File: fp.path, Layout: fp.layout, Annotations: sp.Annotations,
			Expected: len(imgs), Found: len(fp.entries), First: fmt.Sprintf(first, args...)}
	}
	var out []entry
	var err error
	switch {
	case fp.byOrder:
		out, err = fp.matchByOrder(imgs, mismatch)
	case fp.keys != nil:
		out, err = fp.matchByKey(imgs, sp.ImageRoot, mismatch)
	default:
		out, err = fp.matchByID(imgs, mismatch)
	}
	if err != nil {
		return nil, err
	}
	for i, e := range out {
		if bad := outside(e.boxes, imgs[i]); bad > 0 && 4*bad >= len(e.boxes)/4 {
			why := "the boxes were made for other images or another image size"
			if fp.byOrder {
				why = "the entries are not in the annotation file's image order"
			}
			return nil, mismatch("image %s: %d of %d boxes extend beyond its %dx%d pixels, so %s",
				describe(i, imgs[i]), bad, len(e.boxes)/4, imgs[i].Width, imgs[i].Height, why)
		}
	}
	return out, nil
}

func describe(pos int, im coco.Image) string {
	return fmt.Sprintf("at position %d (id %d, %q)", pos, im.ID, im.FileName)
}

func (fp *fileProposals) matchByOrder(imgs []coco.Image, mismatch func(string, ...any) error) ([]entry, error) {
	switch n := len(fp.entries); {
	case n < len(imgs):
		return nil, mismatch("image %s has no entry (the file ends after %d)", describe(n, imgs[n]), n)
	case n > len(imgs):
		return nil, mismatch("entry %d has no image (the annotation file lists %d)", len(imgs), len(imgs))
	}
	return fp.entries, nil
}

func (fp *fileProposals) matchByID(imgs []coco.Image, mismatch func(string, ...any) error) ([]entry, error) {
	byID := make(map[int64]int, len(fp.ids))
	for i, id := range fp.ids {
		if j, dup := byID[id]; dup {
			return nil, mismatch("image id %d has two entries (%d and %d)", id, j, i)
		}
		byID[id] = i
	}
	out := make([]entry, len(imgs))
	known := make(map[int64]bool, len(imgs))
	for i, im := range imgs {
		known[im.ID] = true
		j, ok := byID[im.ID]
		if !ok {
			return nil, mismatch("image %s has no entry", describe(i, im))
		}
		out[i] = fp.entries[j]
	}
	for i, id := range fp.ids {
		if !known[id] {
			return nil, mismatch("entry %d names image id %d, which the annotation file does not list", i, id)
		}
	}
	return out, nil
}

// mmdet3Key is the key MMDetection 3.x's DumpProposals and load_proposals
// use: the image's folder name and file name.
func mmdet3Key(root, fileName string) string {
	p := path.Join(filepath.ToSlash(root), filepath.ToSlash(fileName))
	return path.Base(path.Dir(p)) + "/" + path.Base(p)
}

func (fp *fileProposals) matchByKey(imgs []coco.Image, root string, mismatch func(string, ...any) error) ([]entry, error) {
	byKey := make(map[string]int, len(fp.keys))
	for i, k := range fp.keys {
		byKey[k] = i
	}
	out := make([]entry, len(imgs))
	used := make([]bool, len(fp.keys))
	var missing []int
	for i, im := range imgs {
		j, ok := byKey[mmdet3Key(root, im.FileName)]
		if !ok {
			missing = append(missing, i)
			continue
		}
		used[j] = true
		out[i] = fp.entries[j]
	}
	unused := slices.Index(used, false)
	if len(missing) > 0 {
		i := missing[0]
		hint := ""
		if unused >= 0 {
			hint = fmt.Sprintf(" (unmatched keys in the file, first: %q)", fp.keys[unused])
		}
		return nil, mismatch("image %s has no entry under key %q%s", describe(i, imgs[i]), mmdet3Key(root, imgs[i].FileName), hint)
	}
	if unused >= 0 {
		return nil, mismatch("entry %q names no image of the annotation file", fp.keys[unused])
	}
	return out, nil
}

// outside counts boxes that extend past the image by more than rounding:
// producers clip proposals to the image they were made for.
func outside(boxes []float32, im coco.Image) int {
	tolX, tolY := max(1, 0.01*float32(im.Width)), max(1, 0.01*float32(im.Height))
	n := 0
	for i := 0; i+3 < len(boxes); i += 4 {
		if boxes[i+2] > float32(im.Width)+tolX || boxes[i+3] > float32(im.Height)+tolY || boxes[i] < -tolX || boxes[i+1] < -tolY {
			n++
		}
	}
	return n
}

// rankScores gives unscored proposals scores that keep their order.
func rankScores(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1 - float32(i)/float32(n)
	}
	return s
}

// scored returns e's scores, or rank scores when the file had none.
func (e entry) scored() []float32 {
	if e.scores != nil {
		return e.scores
	}
	return rankScores(len(e.boxes) / 4)
}
