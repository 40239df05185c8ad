package batch

import (
	"fmt"
	"math"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
)

// transformMasks decodes a record's masks (compressed RLE strings at the
// stored size) and moves them as the image moved: resized by nearest
// neighbour, as MMDetection rescales masks (cv2 INTER_NEAREST), then
// mirrored when the image was flipped. Nil when the record has no masks.
func (it *Item) transformMasks(rec *schemas.Record) ([]coco.RLE, error) {
	if len(rec.GTMasks) == 0 {
		return nil, nil
	}
	if len(rec.GTMasks) != len(rec.GTLabels) {
		return nil, fmt.Errorf("image %d (%s): %d gt_masks for %d objects", rec.ImageID, rec.FileName, len(rec.GTMasks), len(rec.GTLabels))
	}
	cols, rows := nearestSources(it.W, it.OrigW), nearestSources(it.H, it.OrigH)
	if it.Flipped {
		for i, j := 0, len(cols)-1; i < j; i, j = i+1, j-1 {
			cols[i], cols[j] = cols[j], cols[i]
		}
	}
	out := make([]coco.RLE, len(rec.GTMasks))
	dst := make([]byte, it.W*it.H)
	for i, s := range rec.GTMasks {
		m, err := coco.ParseRLEString(s, it.OrigH, it.OrigW)
		if err == nil {
			err = m.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("image %d (%s): gt_masks[%d]: %w", rec.ImageID, rec.FileName, i, err)
		}
		src := m.Decode()
		// Column-major, as RLEs are: pixel (x, y) at x*H + y.
		for x, sx := range cols {
			col, scol := dst[x*it.H:(x+1)*it.H], src[sx*it.OrigH:(sx+1)*it.OrigH]
			for y, sy := range rows {
				col[y] = scol[sy]
			}
		}
		out[i] = coco.EncodeMask(dst, it.H, it.W)
	}
	return out, nil
}

// nearestSources maps each of n destination indexes to its source index
// among src as cv2's resizeNN does, in its double arithmetic:
// floor(i * (1 / (n / src))), clamped.
func nearestSources(n, src int) []int {
	ifx := 1 / (float64(n) / float64(src))
	out := make([]int, n)
	for i := range out {
		out[i] = min(int(math.Floor(float64(i)*ifx)), src-1)
	}
	return out
}
