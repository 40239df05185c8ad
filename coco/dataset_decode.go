package coco

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// maxListedProblems bounds the messages a ValidationError keeps; the total
// count is always exact.
const maxListedProblems = 100

// ValidationError lists the rules a file breaks, each message starting with
// the JSON path of the offending value (e.g. "annotations[17].bbox[2]: negative width -3").
type ValidationError struct {
	Problems []string // at most maxListedProblems, in file order
	Total    int      // number of problems found
}

func (e *ValidationError) Error() string {
	total := max(e.Total, len(e.Problems))
	shown := e.Problems
	if len(shown) > 10 {
		shown = shown[:10]
	}
	msg := strings.Join(shown, "; ")
	if total > len(shown) {
		msg += fmt.Sprintf("; and %d more", total-len(shown))
	}
	return fmt.Sprintf("%d invalid values: %s", total, msg)
}

// problemList collects validation messages without holding millions of them.
type problemList struct {
	listed []string
	total  int
}

func (p *problemList) add(msgs ...string) {
	for _, m := range msgs {
		p.total++
		if len(p.listed) < maxListedProblems {
			p.listed = append(p.listed, m)
		}
	}
}

// merge appends another list's problems after p's, keeping the count exact.
func (p *problemList) merge(o problemList) {
	p.add(o.listed...)
	p.total += o.total - len(o.listed)
}

func (p *problemList) err() error {
	if p.total == 0 {
		return nil
	}
	return &ValidationError{Problems: p.listed, Total: p.total}
}

// wireAnnotation mirrors the JSON object; pointers tell a missing required
// field from a zero. Unlisted fields (segmentation, keypoints) are skipped by
// the decoder without being stored.
type wireAnnotation struct {
	ID         *int64    `json:"id"`
	ImageID    *int64    `json:"image_id"`
	CategoryID *int64    `json:"category_id"`
	BBox       []float64 `json:"bbox"`
	Area       *float64  `json:"area"`
	IsCrowd    int       `json:"iscrowd"`
}

type wireImage struct {
	ID       *int64 `json:"id"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	FileName string `json:"file_name"`
}

type wireCategory struct {
	ID            *int64 `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory"`
}

// LoadDataset reads a COCO instances file (images, annotations, categories)
// element by element, so memory holds the decoded data set and one element of
// JSON, never the whole file. Other top-level keys (info, licenses) are read
// and dropped. It returns a *ValidationError (wrapped) when the file breaks a
// rule: duplicate ids, unknown image or category, a box that is not 4
// non-negative sizes, a negative area, an iscrowd other than 0 or 1.
func LoadDataset(ctx context.Context, r io.Reader) (*Dataset, error) {
	return loadDataset(ctx, r, false)
}

// LoadDatasetMasks is LoadDataset that also keeps every annotation's
// segmentation as an RLE (Annotation.Segmentation), converted as
// pycocotools' annToRLE does, which segm evaluation needs. A segmentation
// that is not polygons or a valid RLE is a validation error; a missing one
// is left nil.
func LoadDatasetMasks(ctx context.Context, r io.Reader) (*Dataset, error) {
	return loadDataset(ctx, r, true)
}

// pendingMask is a polygon segmentation waiting for its image's size.
type pendingMask struct {
	ann int // index in Dataset.Annotations
	row int // index in the file's annotations array, for messages
	seg segmentation
}

func loadDataset(ctx context.Context, r io.Reader, masks bool) (*Dataset, error) {
	var pending []pendingMask
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	d := &Dataset{}
	var problems problemList
	seen := map[string]bool{}
	err := decodeObject(dec, "", func(key string) error {
		if seen[key] {
			return fmt.Errorf("%s: duplicate key", key)
		}
		seen[key] = true
		switch key {
		case "images":
			return decodeArray(ctx, dec, key, func(i int) error { return decodeImage(dec, d, i, &problems) })
		case "annotations":
			return decodeArray(ctx, dec, key, func(i int) error {
				if masks {
					return decodeAnnotationMask(dec, d, i, &pending, &problems)
				}
				return decodeAnnotation(dec, d, i, &problems)
			})
		case "categories":
			return decodeArray(ctx, dec, key, func(i int) error { return decodeCategory(dec, d, i, &problems) })
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			return nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("decode instances: %w", err)
	}
	for _, key := range []string{"images", "annotations", "categories"} {
		if !seen[key] {
			problems.add(fmt.Sprintf("%s: missing", key))
		}
	}
	problems.add(d.buildIndex()...)
	if problems.total == 0 {
		rasterisePending(ctx, d, pending, &problems)
	}
	if err := problems.err(); err != nil {
		return nil, fmt.Errorf("validate instances: %w", err)
	}
	return d, nil
}

// rasterisePending converts polygon segmentations on all cores, now that
// every image's size is known.
func rasterisePending(ctx context.Context, d *Dataset, pending []pendingMask, problems *problemList) {
	errs := make([]error, len(pending))
	forEach(ctx, len(pending), func(i int) {
		pm := pending[i]
		a := &d.Annotations[pm.ann]
		img, _ := d.Image(a.ImageID)
		r, err := pm.seg.toRLE(img.Height, img.Width)
		if err != nil {
			errs[i] = fmt.Errorf("annotations[%d].segmentation%s", pm.row, pathMessage(err))
			return
		}
		a.Segmentation = &r
	})
	for _, err := range errs {
		if err != nil {
			problems.add(err.Error())
		}
	}
}

// pathMessage joins a path suffix ("[2]: ...") or a message to a path.
func pathMessage(err error) string {
	if m := err.Error(); strings.HasPrefix(m, "[") {
		return m
	}
	return ": " + err.Error()
}

// decodeObject reads one JSON object, calling each with every key; each must
// consume the key's value from dec.
func decodeObject(dec *json.Decoder, path string, each func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%swant an object, got %s", prefix(path), describeToken(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%swant a key, got %s", prefix(path), describeToken(tok))
		}
		if err := each(key); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// decodeArray reads one JSON array whose elements each decodes, checking ctx
// every few thousand elements so a huge file can be cancelled.
func decodeArray(ctx context.Context, dec *json.Decoder, path string, each func(i int) error) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%s: want an array, got %s", path, describeToken(tok))
	}
	for i := 0; dec.More(); i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := each(i); err != nil {
			return fmt.Errorf("%s[%d]: %w", path, i, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return fmt.Sprintf("string %q", t)
	default:
		return fmt.Sprintf("%v", t)
	}
}

func decodeImage(dec *json.Decoder, d *Dataset, i int, problems *problemList) error {
	var w wireImage
	if err := dec.Decode(&w); err != nil {
		return err
	}
	if w.ID == nil {
		problems.add(fmt.Sprintf("images[%d].id: missing", i))
		return nil
	}
	d.Images = append(d.Images, Image{ID: *w.ID, Width: w.Width, Height: w.Height, FileName: w.FileName})
	return nil
}

func decodeCategory(dec *json.Decoder, d *Dataset, i int, problems *problemList) error {
	var w wireCategory
	if err := dec.Decode(&w); err != nil {
		return err
	}
	if w.ID == nil {
		problems.add(fmt.Sprintf("categories[%d].id: missing", i))
		return nil
	}
	d.Categories = append(d.Categories, Category{ID: *w.ID, Name: w.Name, Supercategory: w.Supercategory})
	return nil
}

func decodeAnnotation(dec *json.Decoder, d *Dataset, i int, problems *problemList) error {
	var w wireAnnotation
	if err := dec.Decode(&w); err != nil {
		return err
	}
	addAnnotation(w, d, i, problems)
	return nil
}

// decodeAnnotationMask is decodeAnnotation keeping the segmentation:
// an RLE is stored at once, polygons wait for the image sizes.
func decodeAnnotationMask(dec *json.Decoder, d *Dataset, i int, pending *[]pendingMask, problems *problemList) error {
	var w struct {
		wireAnnotation
		Segmentation json.RawMessage `json:"segmentation"`
	}
	if err := dec.Decode(&w); err != nil {
		return err
	}
	if !addAnnotation(w.wireAnnotation, d, i, problems) || len(w.Segmentation) == 0 || string(w.Segmentation) == "null" {
		return nil
	}
	seg, err := parseSegmentation(w.Segmentation)
	if err != nil {
		problems.add(fmt.Sprintf("annotations[%d].segmentation%s", i, pathMessage(err)))
		return nil
	}
	if seg.rle != nil {
		d.Annotations[len(d.Annotations)-1].Segmentation = seg.rle
		return nil
	}
	*pending = append(*pending, pendingMask{ann: len(d.Annotations) - 1, row: i, seg: seg})
	return nil
}

// addAnnotation validates a decoded annotation and appends it; it reports
// whether it did.
func addAnnotation(w wireAnnotation, d *Dataset, i int, problems *problemList) bool {
	path := fmt.Sprintf("annotations[%d]", i)
	missing := false
	for _, f := range []struct {
		name string
		v    *int64
	}{{"id", w.ID}, {"image_id", w.ImageID}, {"category_id", w.CategoryID}} {
		if f.v == nil {
			problems.add(path + "." + f.name + ": missing")
			missing = true
		}
	}
	if len(w.BBox) != 4 {
		problems.add(fmt.Sprintf("%s.bbox: want 4 numbers [x,y,w,h], got %d", path, len(w.BBox)))
		missing = true
	}
	if w.IsCrowd != 0 && w.IsCrowd != 1 {
		problems.add(fmt.Sprintf("%s.iscrowd: want 0 or 1, got %d", path, w.IsCrowd))
	}
	if missing {
		return false
	}
	a := Annotation{ID: *w.ID, ImageID: *w.ImageID, CategoryID: *w.CategoryID, IsCrowd: w.IsCrowd == 1}
	copy(a.BBox[:], w.BBox)
	a.Area = max(0, a.BBox.Area()) // a negative box is reported once, by checkBox
	if w.Area != nil {
		a.Area = *w.Area
	}
	problems.add(checkAnnotation(i, a)...)
	d.Annotations = append(d.Annotations, a)
	return true
}

// checkAnnotation returns the rules a ground-truth annotation's numbers break.
func checkAnnotation(i int, a Annotation) []string {
	var out []string
	path := fmt.Sprintf("annotations[%d]", i)
	out = append(out, checkBox(path+".bbox", a.BBox)...)
	if math.IsNaN(a.Area) || math.IsInf(a.Area, 0) {
		out = append(out, fmt.Sprintf("%s.area: not a finite number %v", path, a.Area))
	} else if a.Area < 0 {
		out = append(out, fmt.Sprintf("%s.area: negative area %v", path, a.Area))
	}
	return out
}

// checkBox rejects non-finite coordinates and negative sizes.
func checkBox(path string, b Box) []string {
	var out []string
	names := [4]string{"x", "y", "width", "height"}
	for k, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out = append(out, fmt.Sprintf("%s[%d]: %s is not a finite number %v", path, k, names[k], v))
		} else if k >= 2 && v < 0 {
			out = append(out, fmt.Sprintf("%s[%d]: negative %s %v", path, k, names[k], v))
		}
	}
	return out
}
