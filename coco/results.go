package coco

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Detection is one row of a COCO results file, with the fields pycocotools'
// loadRes adds: ID is the 1-based position in the file, Area is w*h of the
// box, or the mask's area in a file whose first row has a segmentation and
// no box (results are never crowd). For proposals the category is ignored.
// Segmentation is the mask segm evaluation compares; detections made in
// memory set Area as loadRes would for the file they are written to.
type Detection struct {
	ID           int64
	ImageID      int64
	CategoryID   int64
	BBox         Box
	Score        float64
	Area         float64
	Segmentation CompressedRLE
}

// wireDetection mirrors one results row; pointers tell missing from zero.
type wireDetection struct {
	ImageID      *int64    `json:"image_id"`
	CategoryID   *int64    `json:"category_id"`
	BBox         []float64 `json:"bbox"`
	Score        *float64  `json:"score"`
	Segmentation *wireSegm `json:"segmentation"`
}

// wireSegm is a result's segmentation: an RLE object, or polygons, which
// loadRes keeps in a file with boxes and only segm evaluation would read.
type wireSegm struct {
	wireRLE
	polygons bool
}

func (w *wireSegm) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		w.polygons = true
		return nil
	}
	return json.Unmarshal(b, &w.wireRLE)
}

// masksFirst is loadRes's choice of branch, made on the first row only: a
// segmentation without a box makes every row's area its mask's area and
// fills missing boxes from the masks (toBbox).
func (w *wireDetection) masksFirst() bool { return w.Segmentation != nil && len(w.BBox) == 0 }

// ReadResults reads a COCO results file (a JSON array of
// {image_id, category_id, bbox: [x,y,w,h], score} with an optional
// segmentation {size: [h, w], counts: compressed RLE string}) row by row and
// applies loadRes semantics: ids 1..N in file order, area = w*h, iscrowd 0;
// when the first row has a segmentation and no bbox, every row needs a
// segmentation, area is the mask's and a missing bbox is the mask's box.
// Other fields are skipped. A row with a missing field, a box that is not 4
// finite numbers with non-negative sizes, a non-finite score, or a mask
// that is not a valid RLE (counts summing to h*w) makes it return a wrapped
// *ValidationError naming each row ("results[4].bbox[2]: negative width -3").
// An empty array is valid and yields no detections.
func ReadResults(ctx context.Context, r io.Reader) ([]Detection, error) {
	return readResults(ctx, r, true)
}

// readResults is ReadResults; polygons says whether polygon segmentations
// may be skipped (bbox evaluation) or are an error (segm evaluation, which
// reads only RLE results).
func readResults(ctx context.Context, r io.Reader, polygons bool) ([]Detection, error) {
	s := newRowScanner(r)
	work := make(chan *rowChunk)
	var wg sync.WaitGroup
	var masks bool // loadRes's branch, set from row 0 before any chunk is sent
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				c.parse(resultReader{polygons: polygons, masks: masks})
			}
		}()
	}
	var chunks []*rowChunk
	cur := newRowChunk(0, 0)
	send := func() {
		chunks = append(chunks, cur)
		work <- cur
	}
	err := s.rows(ctx, "results", func(i int, row []byte) error {
		if i == 0 {
			var w wireDetection
			var bbox [4]float64
			var seg wireSegm
			masks = parseRow(string(row), &w, &bbox, &seg) == nil && w.masksFirst()
		}
		cur.text.Write(row)
		cur.ends = append(cur.ends, cur.text.Len())
		if len(cur.ends) == chunkRows {
			send()
			cur = newRowChunk(i+1, cur.text.Len())
		}
		return nil
	})
	if len(cur.ends) > 0 {
		send()
	}
	close(work)
	wg.Wait()
	return joinChunks(chunks, err)
}

// chunkRows is how many results rows a worker parses at a time.
const chunkRows = 1024

// rowChunk is a run of consecutive results rows copied out of the scanner,
// so that workers parse and check them while the scanner reads on. The
// detections' counts strings point into text rather than each being copied
// out: one allocation per chunk instead of one per row.
type rowChunk struct {
	first    int             // index of the first row
	text     strings.Builder // the rows back to back
	ends     []int           // where each row ends in text
	dets     []Detection
	problems problemList
	err      error // the first row that is not valid JSON
}

// newRowChunk starts a chunk at row first, sized like the one before it
// (lastLen bytes) so that it rarely grows.
func newRowChunk(first, lastLen int) *rowChunk {
	c := &rowChunk{first: first, ends: make([]int, 0, chunkRows)}
	c.text.Grow(lastLen + lastLen/8)
	return c
}

func (c *rowChunk) parse(rd resultReader) {
	var seg wireSegm
	text := c.text.String()
	c.dets = make([]Detection, 0, len(c.ends))
	start := 0
	for k, end := range c.ends {
		var w wireDetection
		var bbox [4]float64
		if err := parseRow(text[start:end], &w, &bbox, &seg); err != nil {
			c.err = fmt.Errorf("results[%d]: %w", c.first+k, err)
			break
		}
		start = end
		if d, ok := rd.detection(c.first+k, w, &c.problems); ok {
			c.dets = append(c.dets, d)
		}
	}
	c.text, c.ends = strings.Builder{}, nil
}

// parseRow decodes one results row; bbox and seg are storage for w.
func parseRow(row string, w *wireDetection, bbox *[4]float64, seg *wireSegm) error {
	if parseRowFast(row, w, bbox, seg) {
		return nil
	}
	// Anything unusual (other keys, nulls, escapes, odd numbers) goes
	// through encoding/json, so semantics and messages are its own.
	*w = wireDetection{}
	return json.Unmarshal([]byte(row), w)
}

// joinChunks puts the chunks' detections and problems back in file order;
// a row that is not JSON comes before the scanner's error, which is later
// in the file.
func joinChunks(chunks []*rowChunk, scanErr error) ([]Detection, error) {
	n := 0
	for _, c := range chunks {
		if c.err != nil {
			return nil, fmt.Errorf("decode results: %w", c.err)
		}
		n += len(c.dets)
	}
	if scanErr != nil {
		return nil, fmt.Errorf("decode results: %w", scanErr)
	}
	var problems problemList
	dets := make([]Detection, 0, n)
	for _, c := range chunks {
		problems.merge(c.problems)
		dets = append(dets, c.dets...)
	}
	if err := problems.err(); err != nil {
		return nil, fmt.Errorf("validate results: %w", err)
	}
	return dets, nil
}

// resultReader holds what rows share: loadRes's branch, which readResults
// takes once from row 0 before any chunk is parsed, and a counts buffer
// reused to check each mask.
type resultReader struct {
	polygons bool // polygon segmentations are skipped, not an error
	masks    bool
	counts   []uint32
}

func (rd *resultReader) detection(i int, w wireDetection, problems *problemList) (Detection, bool) {
	if w.Segmentation != nil && w.Segmentation.polygons && !rd.masks && rd.polygons {
		w.Segmentation = nil
	}
	if w.Segmentation == nil && !rd.masks {
		return detectionFromWire(i, w, problems)
	}
	var maskErr error
	var h, wd int
	var area uint64
	switch {
	case w.Segmentation == nil:
		maskErr = fmt.Errorf("missing (the first row has a segmentation and no bbox)")
	case w.Segmentation.polygons:
		maskErr = fmt.Errorf("polygons: results need a compressed RLE {size, counts}")
	case rd.masks && len(w.BBox) == 0:
		// loadRes: toBbox when bbox is absent, which needs the counts.
		var mask RLE
		mask, maskErr = w.Segmentation.decodeInto(rd.counts[:0], false)
		rd.counts = mask.Counts
		b := mask.BBox()
		w.BBox = b[:] // zeros for a broken mask, reported below
		h, wd, area = mask.H, mask.W, uint64(mask.Area())
	default:
		h, wd, area, maskErr = w.Segmentation.checkCompressed()
	}
	d, ok := detectionFromWire(i, w, problems)
	if maskErr != nil {
		problems.add(fmt.Sprintf("results[%d].segmentation: %v", i, maskErr))
		return Detection{}, false
	}
	if rd.masks {
		d.Area = float64(uint32(area)) // rleArea sums in a C uint
	}
	d.Segmentation = CompressedRLE{H: h, W: wd, Counts: w.Segmentation.counts}
	return d, ok
}

func detectionFromWire(i int, w wireDetection, problems *problemList) (Detection, bool) {
	if w.ImageID != nil && w.CategoryID != nil && w.Score != nil && len(w.BBox) == 4 && finite(*w.Score) {
		d := Detection{ID: int64(i) + 1, ImageID: *w.ImageID, CategoryID: *w.CategoryID, Score: *w.Score}
		copy(d.BBox[:], w.BBox)
		d.Area = d.BBox.Area()
		if validBox(d.BBox) {
			return d, true
		}
	}
	// Only a broken row pays for building messages.
	path := fmt.Sprintf("results[%d]", i)
	if w.ImageID == nil {
		problems.add(path + ".image_id: missing")
	}
	if w.CategoryID == nil {
		problems.add(path + ".category_id: missing")
	}
	if w.Score == nil {
		problems.add(path + ".score: missing")
	} else if !finite(*w.Score) {
		problems.add(fmt.Sprintf("%s.score: not a finite number %v", path, *w.Score))
	}
	if len(w.BBox) != 4 {
		problems.add(fmt.Sprintf("%s.bbox: want 4 numbers [x,y,w,h], got %d", path, len(w.BBox)))
	} else {
		problems.add(checkBox(path+".bbox", Box(w.BBox))...)
	}
	return Detection{}, false
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// validBox is checkBox without messages: finite, non-negative sizes.
func validBox(b Box) bool {
	return finite(b[0]) && finite(b[1]) && finite(b[2]) && finite(b[3]) && b[2] >= 0 && b[3] >= 0
}

// UnknownReferencesError says how many result rows name an image or category
// that the ground truth does not list, with the first offender of each.
type UnknownReferencesError struct {
	UnknownImages     int
	FirstImageRow     int // 0-based row of the first unknown image
	FirstImageID      int64
	UnknownCategories int
	FirstCategoryRow  int
	FirstCategoryID   int64
}

func (e *UnknownReferencesError) Error() string {
	msg := ""
	if e.UnknownImages > 0 {
		msg = fmt.Sprintf("%d results name images not in the ground truth (first: results[%d].image_id %d)",
			e.UnknownImages, e.FirstImageRow, e.FirstImageID)
	}
	if e.UnknownCategories > 0 {
		if msg != "" {
			msg += ", "
		}
		msg += fmt.Sprintf("%d results name categories not in the ground truth (first: results[%d].category_id %d)",
			e.UnknownCategories, e.FirstCategoryRow, e.FirstCategoryID)
	}
	return msg
}

// CheckResults rejects detections on images the data set does not list and,
// when checkCategories is true (bbox evaluation), on unknown categories. It
// returns an *UnknownReferencesError with the counts, or nil.
func (d *Dataset) CheckResults(dets []Detection, checkCategories bool) error {
	var e UnknownReferencesError
	for i, det := range dets {
		if !d.HasImage(det.ImageID) {
			if e.UnknownImages == 0 {
				e.FirstImageRow, e.FirstImageID = i, det.ImageID
			}
			e.UnknownImages++
		}
		if checkCategories && !d.HasCategory(det.CategoryID) {
			if e.UnknownCategories == 0 {
				e.FirstCategoryRow, e.FirstCategoryID = i, det.CategoryID
			}
			e.UnknownCategories++
		}
	}
	if e.UnknownImages > 0 || e.UnknownCategories > 0 {
		return &e
	}
	return nil
}

// WriteResults writes detections as a COCO results JSON array, one row per
// line, that pycocotools' loadRes reads back to the same values (floats are
// written in Go's shortest round-trip form). Every row has its bbox, and
// its segmentation when it has one (as MMDetection writes segm results), so
// loadRes takes each area as w*h of the box.
func WriteResults(ctx context.Context, w io.Writer, dets []Detection) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := make([]byte, 0, 160)
	if _, err := bw.WriteString("["); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	for i, d := range dets {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var err error
		buf, err = appendDetection(buf[:0], d)
		if err != nil {
			return fmt.Errorf("write results[%d]: %w", i, err)
		}
		if i > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(buf)
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

func appendDetection(b []byte, d Detection) ([]byte, error) {
	b = append(b, `{"image_id":`...)
	b = strconv.AppendInt(b, d.ImageID, 10)
	b = append(b, `,"category_id":`...)
	b = strconv.AppendInt(b, d.CategoryID, 10)
	b = append(b, `,"bbox":[`...)
	for k, v := range d.BBox {
		if k > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSONFloat(b, v); err != nil {
			return nil, fmt.Errorf("bbox[%d]: %w", k, err)
		}
	}
	b = append(b, `],"score":`...)
	b, err := appendJSONFloat(b, d.Score)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	if !d.Segmentation.IsZero() {
		b = append(b, `,"segmentation":`...)
		b = appendCompressedJSON(b, d.Segmentation.H, d.Segmentation.W, d.Segmentation.Counts)
	}
	return append(b, '}'), nil
}

// appendJSONFloat formats like encoding/json: shortest round-trip digits,
// exponent form only for very small or very large magnitudes.
func appendJSONFloat(b []byte, v float64) ([]byte, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("not a finite number %v", v)
	}
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, v, format, -1, 64), nil
}
