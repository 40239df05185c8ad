package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/detflow/detflow/coco"
)

// Segmentation rules. RuleSegmMissing applies only when the model needs
// masks (ValidateOptions.RequireMasks); the others to every segmentation
// present.
const (
	RuleSegmMissing      = "non-crowd annotation without segmentation (the model has a mask head)"
	RuleSegmMalformed    = "segmentation not polygons of finite numbers or an RLE {size, counts}"
	RuleSegmPolygonOdd   = "segmentation polygon with an odd number of coordinates"
	RuleSegmPolygonShort = "segmentation polygon with fewer than 3 points"
	RuleSegmRLECounts    = "segmentation RLE counts do not sum to height x width"
	RuleSegmRLESize      = "segmentation RLE size differs from the image's"
)

// segmRLE is an RLE segmentation as a file writes it: counts is a
// compressed string or a list of run lengths.
type segmRLE struct {
	Size   []int           `json:"size"`
	Counts json.RawMessage `json:"counts"`
}

// checkSegm checks one annotation's segmentation against its
// image's declared size (size checks skipped when that is unknown). at is
// the annotation's JSON path; every example names the annotation id.
func checkSegm(at string, a rawAnnotation, dims imageDims, requireMasks bool, p *problems) {
	id := "annotation id " + int64Value(a.ID)
	raw := bytes.TrimSpace(a.Segmentation)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "[]" {
		if requireMasks && !isCrowd(a.IsCrowd) {
			p.add(RuleSegmMissing, Example{Path: at + ".segmentation", Value: rawValue(a.Segmentation), Detail: id})
		}
		return
	}
	if raw[0] == '[' {
		checkSegmPolygons(at+".segmentation", raw, id, p)
		return
	}
	checkSegmRLE(at+".segmentation", raw, id, dims, p)
}

func checkSegmPolygons(at string, raw json.RawMessage, id string, p *problems) {
	var polys [][]any
	if json.Unmarshal(raw, &polys) != nil {
		p.add(RuleSegmMalformed, Example{Path: at, Value: rawValue(raw), Detail: id})
		return
	}
	for k, poly := range polys {
		ex := Example{Path: fmt.Sprintf("%s[%d]", at, k), Value: jsonValue(poly), Detail: id}
		switch {
		case !finiteNumbers(poly):
			p.add(RuleSegmMalformed, ex)
		case len(poly)%2 != 0:
			ex.Detail += fmt.Sprintf(", %d coordinates", len(poly))
			p.add(RuleSegmPolygonOdd, ex)
		case len(poly) < 6:
			ex.Detail += fmt.Sprintf(", %d points", len(poly)/2)
			p.add(RuleSegmPolygonShort, ex)
		}
	}
}

func finiteNumbers(vs []any) bool {
	for _, v := range vs {
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// checkSegmRLE checks an RLE's size against the image and that its counts
// cover exactly height x width pixels.
func checkSegmRLE(at string, raw json.RawMessage, id string, dims imageDims, p *problems) {
	var r segmRLE
	if json.Unmarshal(raw, &r) != nil || len(r.Size) != 2 || r.Size[0] < 0 || r.Size[1] < 0 {
		p.add(RuleSegmMalformed, Example{Path: at, Value: rawValue(raw), Detail: id})
		return
	}
	h, w := r.Size[0], r.Size[1]
	if dims.w != 0 && (h != dims.h || w != dims.w) {
		p.add(RuleSegmRLESize, Example{Path: at + ".size", Value: jsonValue(r.Size),
			Detail: fmt.Sprintf("%s, image is %dx%d (size is [height, width])", id, dims.w, dims.h)})
	}
	sum, ok := countsSum(r.Counts, h, w)
	if !ok {
		p.add(RuleSegmMalformed, Example{Path: at + ".counts", Value: rawValue(r.Counts), Detail: id})
		return
	}
	if sum != uint64(h)*uint64(w) {
		p.add(RuleSegmRLECounts, Example{Path: at + ".counts", Value: shortValue(r.Counts),
			Detail: fmt.Sprintf("%s, counts sum to %d, size [%d, %d] has %d pixels", id, sum, h, w, uint64(h)*uint64(w))})
	}
}

// countsSum adds up the run lengths of a list or of a compressed string;
// ok is false when they are neither.
func countsSum(raw json.RawMessage, h, w int) (uint64, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		// ParseRLEString checks the string's syntax, not the sum.
		r, err := coco.ParseRLEString(s, h, w)
		if err != nil {
			return 0, false
		}
		return sumCounts(r.Counts), true
	}
	var list []uint32
	if json.Unmarshal(raw, &list) != nil {
		return 0, false
	}
	return sumCounts(list), true
}

func sumCounts(c []uint32) uint64 {
	var sum uint64
	for _, v := range c {
		sum += uint64(v)
	}
	return sum
}

// isCrowd reads iscrowd leniently: anything but 1 is an ordinary object.
func isCrowd(raw json.RawMessage) bool {
	var v float64
	return json.Unmarshal(raw, &v) == nil && v == 1
}

// shortValue is rawValue cut to a readable length: RLE counts run long.
func shortValue(raw json.RawMessage) string {
	s := rawValue(raw)
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
