package proposals

import (
	"encoding/json"
	"fmt"
)

// jsonRow is one element of either JSON layout.
type jsonRow struct {
	ImageID *int64      `json:"image_id"`
	Boxes   [][]float64 `json:"boxes"`
	Scores  []float64   `json:"scores"`
	BBox    []float64   `json:"bbox"`
	Score   *float64    `json:"score"`
}

// importJSON reads the simple layout (one element per image with boxes
// and scores) or a COCO results array (one element per box).
func importJSON(data []byte) (*fileProposals, error) {
	var rows []jsonRow
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, fmt.Errorf("json layout: want an array of {image_id, boxes, scores} or COCO results: %w", err)
	}
	fp := &fileProposals{layout: FormatJSON}
	at := map[int64]int{} // COCO results: image id -> entry
	for i, r := range rows {
		if r.ImageID == nil {
			return nil, fmt.Errorf("json layout: element %d has no image_id", i)
		}
		switch {
		case r.BBox != nil:
			if len(r.BBox) != 4 || r.Score == nil {
				return nil, fmt.Errorf("json layout: element %d: a results row needs bbox [x,y,w,h] and score", i)
			}
			j, ok := at[*r.ImageID]
			if !ok {
				j = len(fp.entries)
				at[*r.ImageID] = j
				fp.ids = append(fp.ids, *r.ImageID)
				fp.entries = append(fp.entries, entry{scores: []float32{}})
			}
			b := r.BBox
			e := &fp.entries[j]
			e.boxes = append(e.boxes, float32(b[0]), float32(b[1]), float32(b[0]+b[2]), float32(b[1]+b[3]))
			e.scores = append(e.scores, float32(*r.Score))
		default:
			e := entry{boxes: make([]float32, 0, 4*len(r.Boxes))}
			for k, b := range r.Boxes {
				if len(b) != 4 {
					return nil, fmt.Errorf("json layout: element %d: box %d has %d numbers, want 4 (x1,y1,x2,y2)", i, k, len(b))
				}
				e.boxes = append(e.boxes, float32(b[0]), float32(b[1]), float32(b[2]), float32(b[3]))
			}
			if r.Scores != nil {
				if len(r.Scores) != len(r.Boxes) {
					return nil, fmt.Errorf("json layout: element %d: %d boxes but %d scores", i, len(r.Boxes), len(r.Scores))
				}
				e.scores = make([]float32, len(r.Scores))
				for k, s := range r.Scores {
					e.scores[k] = float32(s)
				}
			}
			fp.ids = append(fp.ids, *r.ImageID)
			fp.entries = append(fp.entries, e)
		}
	}
	if len(at) > 0 && len(at) != len(fp.entries) {
		return nil, fmt.Errorf("json layout: mixes results rows (bbox, score) with per-image rows (boxes, scores)")
	}
	return fp, nil
}
