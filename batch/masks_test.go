package batch

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
)

// maskRecord is pngRecord of w x h with one object per polygon, each box
// the tight box of its rasterised mask.
func maskRecord(t *testing.T, w, h int, polys [][]float64) *schemas.Record {
	t.Helper()
	rec := pngRecord(t, w, h)
	rec.GTBoxes, rec.GTLabels, rec.GTCrowd = nil, nil, nil
	for _, p := range polys {
		m := coco.PolygonToRLE(p, h, w)
		b := m.BBox()
		rec.GTBoxes = append(rec.GTBoxes, float32(b[0]), float32(b[1]), float32(b[0]+b[2]), float32(b[1]+b[3]))
		rec.GTLabels = append(rec.GTLabels, 0)
		rec.GTCrowd = append(rec.GTCrowd, false)
		rec.GTMasks = append(rec.GTMasks, m.String())
	}
	return rec
}

func TestPreparedMasksMoveWithTheirBoxes(t *testing.T) {
	polys := [][]float64{
		{5, 4, 30, 9, 12, 35},                  // triangle
		{40, 10, 60, 10, 60, 20, 40, 20},       // rectangle on the right
		{2, 40, 20, 30, 25, 47, 10, 46, 3, 44}, // pentagon at the bottom
	}
	rec := maskRecord(t, 64, 48, polys)
	for _, tt := range []struct {
		scale [2]int
		flip  bool
	}{
		{[2]int{64, 48}, true}, {[2]int{100, 75}, false}, {[2]int{100, 75}, true},
		{[2]int{45, 33}, true}, {[2]int{128, 96}, true}, {[2]int{90, 90}, false},
	} {
		o := Options{Scale: tt.scale, KeepRatio: tt.scale[0] != tt.scale[1], Std: [3]float32{1, 1, 1}}
		if tt.flip {
			o.FlipRatio = 1
		}
		it, err := Prepare(rec, o, tt.flip, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if len(it.GTMasks) != len(polys) || it.Flipped != tt.flip {
			t.Fatalf("scale %v: %d masks, flipped %v", tt.scale, len(it.GTMasks), it.Flipped)
		}
		for i, m := range it.GTMasks {
			if m.H != it.H || m.W != it.W || m.Validate() != nil {
				t.Fatalf("scale %v mask %d: %dx%d, item %dx%d", tt.scale, i, m.W, m.H, it.W, it.H)
			}
			// Within a pixel; shrinking by s, nearest sampling skips source
			// rows and columns, so a one-pixel tip may vanish: 1/s then.
			tol := max(1, 1/float64(it.ScaleX), 1/float64(it.ScaleY))
			b := m.BBox()
			got := [4]float64{b[0], b[1], b[0] + b[2], b[1] + b[3]}
			for k := range 4 {
				if d := math.Abs(got[k] - float64(it.GTBoxes[4*i+k])); d > tol {
					t.Errorf("scale %v flip %v mask %d: box of the mask %v, moved box %v", tt.scale, tt.flip, i, got, it.GTBoxes[4*i:4*i+4])
					break
				}
			}
		}
	}
}

func TestPreparedMaskIsNearestResizeThenMirror(t *testing.T) {
	// One pixel (x=1, y=2) of a 4x3 image, doubled and flipped: pixels
	// x in {4,5} (8-1-{2,3}), y in {4,5}.
	pix := make([]byte, 12)
	pix[1*3+2] = 1
	rec := pngRecord(t, 4, 3)
	rec.GTBoxes, rec.GTLabels, rec.GTCrowd = []float32{1, 2, 2, 3}, []int32{0}, []bool{false}
	rec.GTMasks = []string{coco.EncodeMask(pix, 3, 4).String()}
	o := Options{Scale: [2]int{8, 6}, KeepRatio: true, FlipRatio: 1, Std: [3]float32{1, 1, 1}}
	it, err := Prepare(rec, o, true, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	got := it.GTMasks[0].Decode()
	for x := range 8 {
		for y := range 6 {
			want := byte(0)
			if (x == 4 || x == 5) && (y == 4 || y == 5) {
				want = 1
			}
			if got[x*6+y] != want {
				t.Fatalf("pixel (%d,%d) = %d, want %d; boxes %v", x, y, got[x*6+y], want, it.GTBoxes)
			}
		}
	}
}

func TestPrepareRejectsBadMasks(t *testing.T) {
	rec := pngRecord(t, 4, 3)
	o := Options{Scale: [2]int{4, 3}, KeepRatio: true, Std: [3]float32{1, 1, 1}}
	rec.GTMasks = []string{"1", "2"}
	if _, err := Prepare(rec, o, false, nil); err == nil || !strings.Contains(err.Error(), "image 1 (a.png): 2 gt_masks for 1 objects") {
		t.Errorf("count mismatch: %v", err)
	}
	rec.GTMasks = []string{"35"} // counts sum to 3, not 12
	if _, err := Prepare(rec, o, false, nil); err == nil || !strings.Contains(err.Error(), "gt_masks[0]: counts sum to") {
		t.Errorf("short mask: %v", err)
	}
}
