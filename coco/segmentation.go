package coco

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sync"
)

// CompressedRLE is a mask as COCO JSON writes it, {"size": [H, W],
// "counts": "..."} with Counts in pycocotools' string form (RLE.String).
// A Detection keeps this form: compact, and comparable with ==. The zero
// value means no mask.
type CompressedRLE struct {
	H, W   int
	Counts string
}

// Compress returns r in its JSON form.
func (r RLE) Compress() CompressedRLE { return CompressedRLE{H: r.H, W: r.W, Counts: r.String()} }

// IsZero reports whether c holds no mask.
func (c CompressedRLE) IsZero() bool { return c == CompressedRLE{} }

// Decode parses and validates the mask (RLE.Validate).
func (c CompressedRLE) Decode() (RLE, error) {
	r, err := ParseRLEString(c.Counts, c.H, c.W)
	if err != nil {
		return RLE{}, err
	}
	return r, r.Validate()
}

// segmentation is a ground truth's "segmentation" as the file writes it:
// polygons (each [x0, y0, x1, y1, ...]) or an RLE with its own size.
type segmentation struct {
	polygons [][]float64
	rle      *RLE
}

// wireRLE is an RLE object; counts is a string (compressed) or a list.
type wireRLE struct {
	Size   []int64         `json:"size"`
	Counts json.RawMessage `json:"counts"`
	counts string          // the compressed string, once decoded
	parsed bool            // counts already holds the string (the fast row parser's)
}

// parseSegmentation reads a ground-truth segmentation value. Errors say
// what is wrong, for the caller to prefix with the JSON path.
func parseSegmentation(raw []byte) (segmentation, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		polys, ok := parsePolygonsFast(raw)
		if !ok {
			polys = nil
			if err := json.Unmarshal(raw, &polys); err != nil {
				return segmentation{}, fmt.Errorf("want polygons [[x0,y0,x1,y1,...],...] or an RLE object: %w", err)
			}
		}
		for k, p := range polys {
			if err := checkPolygon(p); err != nil {
				return segmentation{}, fmt.Errorf("[%d]: %w", k, err)
			}
		}
		return segmentation{polygons: polys}, nil
	}
	var w wireRLE
	if err := json.Unmarshal(raw, &w); err != nil {
		return segmentation{}, fmt.Errorf("want polygons or an RLE object {size, counts}: %w", err)
	}
	r, err := w.decodeInto(nil, true)
	if err != nil {
		return segmentation{}, err
	}
	return segmentation{rle: &r}, nil
}

// rasterise is PolygonToRLE for a polygon from a file, refusing what
// would exhaust memory.
func rasterise(p []float64, h, w int) (RLE, error) {
	if err := checkPolygon(p); err != nil {
		return RLE{}, err
	}
	if n := polygonSteps(p); n > maxPolygonSteps {
		return RLE{}, fmt.Errorf("outline of %d upsampled steps, more than %d", n, maxPolygonSteps)
	}
	s := polyScratchPool.Get().(*polyScratch)
	defer polyScratchPool.Put(s)
	return s.rasterise(p, h, w), nil
}

var polyScratchPool = sync.Pool{New: func() any { return new(polyScratch) }}

// parsePolygonsFast reads [[n, n, ...], ...] of plain numbers, the whole of
// raw; it reports false for anything else, which encoding/json then reads
// (ground-truth polygons are most of an instances file).
func parsePolygonsFast(raw []byte) ([][]float64, bool) {
	p := rowParser{b: string(raw)}
	var polys [][]float64
	if !p.byte('[') {
		return nil, false
	}
	for !p.byte(']') {
		if len(polys) > 0 && !p.byte(',') || !p.byte('[') {
			return nil, false
		}
		var poly []float64
		for !p.byte(']') {
			if len(poly) > 0 && !p.byte(',') {
				return nil, false
			}
			v, ok := p.float()
			if !ok {
				return nil, false
			}
			poly = append(poly, v)
		}
		polys = append(polys, poly)
	}
	p.space()
	return polys, p.i == len(p.b)
}

// checkPolygon rejects what pycocotools would rasterise from garbage: an
// odd number of coordinates, non-finite or huge values.
func checkPolygon(p []float64) error {
	if len(p)%2 != 0 {
		return fmt.Errorf("odd number of coordinates %d", len(p))
	}
	for j, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxPolygonCoord {
			return fmt.Errorf("[%d]: coordinate %v not finite or beyond ±1e8", j, v)
		}
	}
	return nil
}

func (w *wireRLE) size() (h, wd int, err error) {
	if len(w.Size) != 2 {
		return 0, 0, fmt.Errorf("size: want [h, w], got %d numbers", len(w.Size))
	}
	if w.Size[0] < 0 || w.Size[1] < 0 || (w.Size[1] > 0 && w.Size[0] > maxMaskPixels/w.Size[1]) {
		return 0, 0, fmt.Errorf("size: [%d, %d] not within 2^29 pixels", w.Size[0], w.Size[1])
	}
	return int(w.Size[0]), int(w.Size[1]), nil
}

// checkCompressed validates a compressed RLE object without keeping its
// counts (RLE.Validate's rules) and returns its area.
func (w *wireRLE) checkCompressed() (h, wd int, area uint64, err error) {
	if h, wd, err = w.size(); err != nil {
		return 0, 0, 0, err
	}
	c := bytes.TrimSpace(w.Counts)
	if !w.parsed && (len(c) == 0 || c[0] != '"') {
		return 0, 0, 0, fmt.Errorf("counts: want a compressed RLE string")
	}
	if err := w.unquote(c); err != nil {
		return 0, 0, 0, fmt.Errorf("counts: %w", err)
	}
	sum, area, err := scanRLECounts(w.counts)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("counts: %w", err)
	}
	if sum != uint64(h*wd) {
		return 0, 0, 0, fmt.Errorf("counts: counts sum to %d, want h*w = %d", sum, h*wd)
	}
	return h, wd, area, nil
}

// decodeInto validates an RLE object: [h, w] size, counts as a compressed
// string or (when uncompressed is allowed) a list of non-negative
// integers, summing to h*w. Counts are appended to dst.
func (w *wireRLE) decodeInto(dst []uint32, uncompressed bool) (RLE, error) {
	h, wd, err := w.size()
	if err != nil {
		return RLE{}, err
	}
	r := RLE{H: h, W: wd}
	c := bytes.TrimSpace(w.Counts)
	switch {
	case w.parsed || len(c) > 0 && c[0] == '"':
		if err := w.unquote(c); err != nil {
			return RLE{}, fmt.Errorf("counts: %w", err)
		}
		var err error
		if r.Counts, err = appendRLECounts(dst, w.counts); err != nil {
			return RLE{}, fmt.Errorf("counts: %w", err)
		}
	case uncompressed && len(c) > 0 && c[0] == '[':
		if err := json.Unmarshal(c, &r.Counts); err != nil {
			return RLE{}, fmt.Errorf("counts: want non-negative integers: %w", err)
		}
	case uncompressed:
		return RLE{}, fmt.Errorf("counts: want a compressed RLE string or a list of counts")
	default:
		return RLE{}, fmt.Errorf("counts: want a compressed RLE string")
	}
	if err := r.Validate(); err != nil {
		return RLE{}, fmt.Errorf("counts: %w", err)
	}
	return r, nil
}

func (w *wireRLE) unquote(c []byte) error {
	if w.parsed {
		return nil
	}
	return json.Unmarshal(c, &w.counts)
}

// toRLE is pycocotools' annToRLE: polygons are rasterised at the image's
// size h x w and their parts merged (union); an RLE is taken as it is,
// with its own size. pycocotools' frPyObjects takes a list whose first
// part has 4 numbers for boxes and then fails (frBbox wants an array);
// here every part is a polygon, degenerate or not.
func (s segmentation) toRLE(h, w int) (RLE, error) {
	if s.rle != nil {
		return *s.rle, nil
	}
	if len(s.polygons) == 0 {
		return RLE{}, fmt.Errorf("no polygons")
	}
	if h <= 0 || w <= 0 {
		return RLE{}, fmt.Errorf("polygons on an image of size %dx%d (width and height needed)", w, h)
	}
	parts := make([]RLE, len(s.polygons))
	for k, p := range s.polygons {
		var err error
		if parts[k], err = rasterise(p, h, w); err != nil {
			return RLE{}, fmt.Errorf("[%d]: %w", k, err)
		}
	}
	return MergeRLEs(parts, false), nil
}
