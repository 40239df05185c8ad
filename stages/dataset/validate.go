package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig for .jpg images
	_ "image/png"  // DecodeConfig for .png images
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/detflow/detflow/storage"
)

// ValidateOptions configures Validate.
type ValidateOptions struct {
	// Annotations is the COCO instances JSON (local or gs://).
	Annotations string
	// ImageRoot is the directory that every file_name is relative to.
	ImageRoot string
	// CheckImages decodes each image's header (JPEG or PNG) and compares
	// its size with the declared width and height. Without it, image files
	// are only checked to exist.
	CheckImages bool
	// MaxPixels refuses images whose declared or stored width x height is
	// larger, before any is decoded; 0 means DefaultMaxPixels.
	MaxPixels int
	// MaxExamples per broken rule; 0 means 3.
	MaxExamples int
	// Workers check image files in parallel; 0 means 2*GOMAXPROCS (the
	// work is mostly waiting on I/O).
	Workers int
	// RequireMasks makes a non-crowd annotation without a segmentation a
	// broken rule (RuleSegmMissing): the model has a mask head. Set from
	// the zoo registry (zoo.HasMasks) through Stage.RequireMasks.
	// Segmentations that are present are checked either way.
	RequireMasks bool
	// Progress, if not nil, is called after each image file is checked.
	// Calls are serialised.
	Progress func(done, total int)
}

// The minimal view of a COCO instances file that validation needs. Pointers
// tell a missing field from a zero one; bbox stays raw so that a malformed
// box is reported instead of failing the whole decode.
type rawCOCO struct {
	Images      []rawImage      `json:"images"`
	Annotations []rawAnnotation `json:"annotations"`
	Categories  []rawCategory   `json:"categories"`
}

type rawImage struct {
	ID       *int64  `json:"id"`
	FileName *string `json:"file_name"`
	Width    *int    `json:"width"`
	Height   *int    `json:"height"`
}

type rawAnnotation struct {
	ID         *int64          `json:"id"`
	ImageID    *int64          `json:"image_id"`
	CategoryID *int64          `json:"category_id"`
	Bbox       json.RawMessage `json:"bbox"`
	IsCrowd    json.RawMessage `json:"iscrowd"`
	// Segmentation: polygons or an RLE; raw, for the same reason as Bbox.
	Segmentation json.RawMessage `json:"segmentation"`
}

type rawCategory struct {
	ID *int64 `json:"id"`
}

// imageFileCheck is what Validate learned about one image file.
type imageFileCheck struct {
	rule   string // a broken rule, or ""
	detail string
}

// Validate checks a user's COCO detection data set: unique ids, annotations
// that point at known images and categories, boxes of 4 finite numbers with
// positive size inside their image, segmentations that are well-formed
// polygons or RLEs of their image's size (and, with RequireMasks, present
// on every non-crowd object), file names that are clean relative
// paths that never leave ImageRoot (also not through a symbolic link,
// locally), and image files that exist and, with CheckImages, decode with
// their declared size.
//
// The returned error is for failures to validate at all: an unreadable or
// malformed JSON file, a cancelled context. A data set that breaks rules
// gives a report whose Err is not nil.
func Validate(ctx context.Context, fsys *storage.FS, opts ValidateOptions) (*ValidationReport, error) {
	if opts.MaxExamples <= 0 {
		opts.MaxExamples = 3
	}
	if opts.Workers <= 0 {
		opts.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	doc, digest, err := readCOCO(ctx, fsys, opts.Annotations)
	if err != nil {
		return nil, err
	}
	r := &ValidationReport{
		Annotations: opts.Annotations, ImageRoot: opts.ImageRoot, Digest: digest,
		Images: len(doc.Images), Objects: len(doc.Annotations), Categories: len(doc.Categories),
		ImagesRead: opts.CheckImages,
	}
	p := newProblems(opts.MaxExamples)
	images, files := checkImages(doc.Images, opts.MaxPixels, p)
	categories := checkCategories(doc.Categories, p)
	checkAnnotations(doc.Annotations, images, categories, opts.RequireMasks, p)
	if err := checkImageFiles(ctx, fsys, opts, doc.Images, files, p); err != nil {
		return nil, err
	}
	r.Problems = p.list()
	return r, nil
}

// readCOCO reads and decodes the annotations file, tolerating Python's
// NaN and Infinity tokens.
func readCOCO(ctx context.Context, fsys *storage.FS, p string) (*rawCOCO, storage.Digest, error) {
	rc, err := fsys.Open(ctx, p)
	if err != nil {
		return nil, storage.Digest{}, fmt.Errorf("validate %q: %w", p, err)
	}
	defer rc.Close()
	dr := storage.NewDigestReader(rc)
	data, err := io.ReadAll(dr)
	if err != nil {
		return nil, storage.Digest{}, fmt.Errorf("validate %q: read: %w", p, err)
	}
	var doc rawCOCO
	err = json.Unmarshal(data, &doc)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		if clean, changed := sanitizeNonFinite(data); changed {
			doc = rawCOCO{}
			err = json.Unmarshal(clean, &doc)
		}
	}
	if err != nil {
		return nil, storage.Digest{}, fmt.Errorf("validate %q: decode COCO json: %w", p, err)
	}
	return &doc, dr.Digest(), nil
}

// imageDims are the declared width and height; 0 when invalid.
type imageDims struct{ w, h int }

// checkImages checks ids, sizes and file names. It returns the declared
// size of each valid image id and, per image, whether its file should be
// looked at.
func checkImages(images []rawImage, maxPixels int, p *problems) (map[int64]imageDims, []bool) {
	if len(images) == 0 {
		p.add(RuleNoImages, Example{Path: "images", Value: "[]"})
	}
	byID := make(map[int64]imageDims, len(images))
	firstID := make(map[int64]int, len(images))
	firstName := make(map[string]int, len(images))
	files := make([]bool, len(images))
	for i, im := range images {
		at := fmt.Sprintf("images[%d]", i)
		dims, huge := imageDims{}, false
		switch {
		case im.Width != nil && im.Height != nil && tooLarge(*im.Width, *im.Height, maxPixels):
			p.add(RuleImageTooLarge, Example{Path: at, Value: fmt.Sprintf(`{"width":%d,"height":%d}`, *im.Width, *im.Height),
				Detail: fmt.Sprintf("limit %d pixels (dataset.max_pixels)", maxPixels)})
			dims, huge = imageDims{*im.Width, *im.Height}, true
		case im.Width != nil && im.Height != nil && *im.Width > 0 && *im.Height > 0:
			dims = imageDims{*im.Width, *im.Height}
		default:
			p.add(RuleImageSize, Example{Path: at, Value: fmt.Sprintf(`{"width":%s,"height":%s}`, intValue(im.Width), intValue(im.Height))})
		}
		switch {
		case im.ID == nil:
			p.add(RuleImageID, Example{Path: at + ".id", Value: "null"})
		default:
			if j, dup := firstID[*im.ID]; dup {
				p.add(RuleDuplicateImageID, Example{Path: at + ".id", Value: jsonValue(*im.ID), Detail: fmt.Sprintf("first at images[%d]", j)})
			} else {
				firstID[*im.ID] = i
				byID[*im.ID] = dims
			}
		}
		name := ""
		if im.FileName != nil {
			name = *im.FileName
		}
		if rule := fileNameRule(name); rule != "" {
			p.add(rule, Example{Path: at + ".file_name", Value: jsonValue(name)})
			continue
		}
		if j, dup := firstName[name]; dup {
			p.add(RuleDuplicateFileName, Example{Path: at + ".file_name", Value: jsonValue(name), Detail: fmt.Sprintf("first at images[%d]", j)})
			continue
		}
		firstName[name] = i
		files[i] = !huge // refused already: not worth opening
	}
	return byID, files
}

func intValue(v *int) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}

func checkCategories(cats []rawCategory, p *problems) map[int64]bool {
	known := make(map[int64]bool, len(cats))
	first := make(map[int64]int, len(cats))
	for i, c := range cats {
		at := fmt.Sprintf("categories[%d].id", i)
		if c.ID == nil {
			p.add(RuleCategoryID, Example{Path: at, Value: "null"})
			continue
		}
		if j, dup := first[*c.ID]; dup {
			p.add(RuleDuplicateCategoryID, Example{Path: at, Value: jsonValue(*c.ID), Detail: fmt.Sprintf("first at categories[%d]", j)})
			continue
		}
		first[*c.ID] = i
		known[*c.ID] = true
	}
	return known
}

func checkAnnotations(anns []rawAnnotation, images map[int64]imageDims, cats map[int64]bool, requireMasks bool, p *problems) {
	first := make(map[int64]int, len(anns))
	for i, a := range anns {
		at := fmt.Sprintf("annotations[%d]", i)
		if a.ID == nil {
			p.add(RuleAnnotationID, Example{Path: at + ".id", Value: "null"})
		} else if j, dup := first[*a.ID]; dup {
			p.add(RuleDuplicateAnnID, Example{Path: at + ".id", Value: jsonValue(*a.ID), Detail: fmt.Sprintf("first at annotations[%d]", j)})
		} else {
			first[*a.ID] = i
		}
		dims, imageKnown := imageDims{}, false
		if a.ImageID != nil {
			dims, imageKnown = images[*a.ImageID]
		}
		if !imageKnown {
			p.add(RuleUnknownImage, Example{Path: at + ".image_id", Value: int64Value(a.ImageID)})
		}
		if a.CategoryID == nil || !cats[*a.CategoryID] {
			p.add(RuleUnknownCategory, Example{Path: at + ".category_id", Value: int64Value(a.CategoryID)})
		}
		checkBbox(at+".bbox", a.Bbox, dims, p)
		checkSegm(at, a, dims, requireMasks, p)
	}
}

func int64Value(v *int64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}

// checkBbox checks one [x, y, w, h] box against its image's declared size
// (skipped when that is unknown).
func checkBbox(at string, raw json.RawMessage, dims imageDims, p *problems) {
	box, ok := parseBbox(raw)
	ex := Example{Path: at, Value: rawValue(raw)}
	switch {
	case !ok:
		p.add(RuleBboxMalformed, ex)
		return
	case box[2] < 0 || box[3] < 0:
		p.add(RuleBboxNegative, ex)
		return
	case box[2] == 0 || box[3] == 0:
		p.add(RuleBboxZero, ex)
		return
	}
	if dims.w == 0 {
		return
	}
	x, y, w, h := box[0], box[1], box[2], box[3]
	if x < -bboxTolerance || y < -bboxTolerance || x+w > float64(dims.w)+bboxTolerance || y+h > float64(dims.h)+bboxTolerance {
		ex.Detail = fmt.Sprintf("image is %dx%d", dims.w, dims.h)
		p.add(RuleBboxOutside, ex)
	}
}

// checkImageFiles checks, in parallel, every image whose file_name passed,
// and records findings in image order so reports are deterministic.
func checkImageFiles(ctx context.Context, fsys *storage.FS, opts ValidateOptions, images []rawImage, files []bool, p *problems) error {
	checker, err := newFileChecker(ctx, fsys, opts)
	if err != nil {
		return err
	}
	results := make([]imageFileCheck, len(images))
	prog := newProgress(opts.Progress, len(images))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	for i := range images {
		if !files[i] {
			prog.step()
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			var err error
			results[i], err = checker.check(gctx, *images[i].FileName, images[i])
			prog.step()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("validate %q: check images under %q: %w", opts.Annotations, opts.ImageRoot, err)
	}
	for i, res := range results {
		if res.rule != "" {
			p.add(res.rule, Example{Path: fmt.Sprintf("images[%d].file_name", i), Value: jsonValue(*images[i].FileName), Detail: res.detail})
		}
	}
	return nil
}

// fileChecker looks at image files under one root. Locally it resolves
// symbolic links to catch escapes; on GCS it lists the root once instead of
// asking for each object.
type fileChecker struct {
	fsys        *storage.FS
	root        string
	checkImages bool
	maxPixels   int
	realRoot    string           // local: root with links resolved
	objects     map[string]int64 // gs: object path -> size
}

func newFileChecker(ctx context.Context, fsys *storage.FS, opts ValidateOptions) (*fileChecker, error) {
	c := &fileChecker{fsys: fsys, root: opts.ImageRoot, checkImages: opts.CheckImages, maxPixels: opts.MaxPixels}
	if storage.IsGCS(opts.ImageRoot) {
		objs, err := fsys.ListRecursive(ctx, opts.ImageRoot)
		if err != nil {
			return nil, fmt.Errorf("validate: list image root: %w", err)
		}
		c.objects = make(map[string]int64, len(objs))
		for _, o := range objs {
			c.objects[o.Path] = o.Size
		}
		return c, nil
	}
	real, err := filepath.EvalSymlinks(opts.ImageRoot)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("validate: resolve image root: %w", err)
	}
	c.realRoot = real // "" when the root is missing: every image is then missing
	return c, nil
}

func (c *fileChecker) check(ctx context.Context, name string, im rawImage) (imageFileCheck, error) {
	full := storage.Join(c.root, name)
	if storage.IsGCS(full) {
		if _, ok := c.objects[full]; !ok {
			return imageFileCheck{rule: RuleImageMissing, detail: "no object " + full}, nil
		}
	} else {
		res, ok := c.checkLocal(ctx, full)
		if !ok {
			return res, nil
		}
	}
	if !c.checkImages {
		return imageFileCheck{}, nil
	}
	return c.decodeHeader(ctx, full, im)
}

// checkLocal reports a missing file, a non-regular file or a link that
// leaves the root; ok is false when one of those applies.
func (c *fileChecker) checkLocal(ctx context.Context, full string) (imageFileCheck, bool) {
	if c.realRoot == "" {
		return imageFileCheck{rule: RuleImageMissing, detail: "image root " + c.root + " does not exist"}, false
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return imageFileCheck{rule: RuleImageMissing, detail: err.Error()}, false
	}
	rel, err := filepath.Rel(c.realRoot, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return imageFileCheck{rule: RuleImageLinkEscapes, detail: "resolves to " + real}, false
	}
	st, err := c.fsys.Stat(ctx, real)
	if err != nil || st.IsDir {
		return imageFileCheck{rule: RuleImageMissing, detail: "not a regular file"}, false
	}
	return imageFileCheck{}, true
}

// decodeHeader reads just enough of the file to learn its format and size.
func (c *fileChecker) decodeHeader(ctx context.Context, full string, im rawImage) (imageFileCheck, error) {
	r, err := c.fsys.Open(ctx, full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return imageFileCheck{rule: RuleImageMissing, detail: err.Error()}, nil
		}
		return imageFileCheck{}, err
	}
	defer r.Close()
	cfg, format, err := image.DecodeConfig(r)
	if ctx.Err() != nil {
		return imageFileCheck{}, ctx.Err()
	}
	if err != nil {
		return imageFileCheck{rule: RuleImageUndecodable, detail: err.Error()}, nil
	}
	if tooLarge(cfg.Width, cfg.Height, c.maxPixels) {
		return imageFileCheck{
			rule:   RuleImageTooLarge,
			detail: fmt.Sprintf("%s header says %dx%d, limit %d pixels (dataset.max_pixels)", format, cfg.Width, cfg.Height, c.maxPixels),
		}, nil
	}
	if im.Width != nil && im.Height != nil && (cfg.Width != *im.Width || cfg.Height != *im.Height) {
		return imageFileCheck{
			rule:   RuleImageSizeMismatch,
			detail: fmt.Sprintf("declared %dx%d, %s file is %dx%d", *im.Width, *im.Height, format, cfg.Width, cfg.Height),
		}, nil
	}
	return c.checkEnd(ctx, full, format)
}

// tooLarge is in int64: 200000*200000 overflows 32-bit int.
func tooLarge(w, h, maxPixels int) bool {
	return int64(w)*int64(h) > int64(maxPixels)
}
