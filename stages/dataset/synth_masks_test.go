package dataset

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/detflow/detflow/coco"
)

// TestSynthesizedMasksAgreeWithBoxesAndAreas loads the synthetic set as
// segm evaluation does (pycocotools' annToRLE: polygons rasterised at the
// image's size) and checks each mask against its annotation: the mask's box
// is the annotation's within 2 pixels (the box is the shape's exact extent,
// and pycocotools drops the pixels of an acute tip, as it does for COCO's
// own polygons), its area the annotation's area within
// a rim of edge pixels, and no two masks of an image overlap (occluded
// objects are annotated modally, by what stays visible).
func TestSynthesizedMasksAgreeWithBoxesAndAreas(t *testing.T) {
	out := t.TempDir()
	synthesize(t, testSynth(out))
	f, err := os.Open(filepath.Join(out, "annotations", "instances_train.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := coco.LoadDatasetMasks(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range ds.Images {
		anns := ds.ImageAnnotations(img.ID)
		for i, a := range anns {
			m := a.Segmentation
			if m == nil || m.H != img.Height || m.W != img.Width {
				t.Fatalf("annotation %d: mask %v, want one of %dx%d", a.ID, m, img.Width, img.Height)
			}
			b := m.BBox()
			for k, d := range []float64{b[0] - a.BBox[0], b[1] - a.BBox[1], b[0] + b[2] - a.BBox[0] - a.BBox[2], b[1] + b[3] - a.BBox[1] - a.BBox[3]} {
				if math.Abs(d) > 2 {
					t.Errorf("annotation %d: mask box %v, annotation box %v (side %d off by %.2f)", a.ID, b, a.BBox, k, d)
					break
				}
			}
			// Polygons are rasterised by pycocotools' rule, the area counts
			// pixels at least half covered: they differ on the outline only.
			rim := 2 * (a.BBox[2] + a.BBox[3])
			if d := math.Abs(float64(m.Area()) - a.Area); d > 0.5*rim {
				t.Errorf("annotation %d: mask area %d, annotation area %v", a.ID, m.Area(), a.Area)
			}
			for _, o := range anns[:i] {
				if inter := coco.MergeRLEs([]coco.RLE{*m, *o.Segmentation}, true).Area(); inter > uint32(0.02*a.Area)+2 {
					t.Errorf("annotations %d and %d: masks overlap by %d pixels", o.ID, a.ID, inter)
				}
			}
		}
	}
}
