package analysis

import (
	"context"
	"math"
	"testing"

	"github.com/detflow/detflow/coco"
)

// Categories of the hand-made cases: a and b share a supercategory, c does not.
var cats = []coco.Category{{ID: 1, Name: "a", Supercategory: "x"}, {ID: 2, Name: "b", Supercategory: "x"}, {ID: 3, Name: "c", Supercategory: "y"}}

func box(x float64) coco.Box { return coco.Box{x, 0, 10, 10} }

func mustDataset(t *testing.T, anns []coco.Annotation) *coco.Dataset {
	t.Helper()
	imgs := []coco.Image{{ID: 1, Width: 800, Height: 800, FileName: "1.jpg"}, {ID: 2, Width: 800, Height: 800, FileName: "2.jpg"}}
	for i := range anns {
		anns[i].ID = int64(i + 1)
		anns[i].Area = anns[i].BBox.Area()
	}
	ds, err := coco.NewDataset(imgs, anns, cats)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// errorCase: four objects of a (a4 never detected), one of b, one of c,
// and six detections of a, each making one kind of error, best score first:
//
//	d1 .90 on a1 exactly          right at every IoU
//	d2 .85 on nothing             background
//	d3 .80 on c1 exactly          confused with another supercategory
//	d4 .75 on b1 exactly          confused within the supercategory
//	d5 .70 on a2, IoU 2/3         right from IoU .5 on
//	d6 .60 on a3, IoU 1/3         right from IoU .1 on
func errorCase(t *testing.T) (*coco.Dataset, []coco.Detection) {
	gt := mustDataset(t, []coco.Annotation{
		{ImageID: 1, CategoryID: 1, BBox: box(0)},
		{ImageID: 1, CategoryID: 1, BBox: box(100)},
		{ImageID: 1, CategoryID: 1, BBox: box(300)},
		{ImageID: 1, CategoryID: 1, BBox: box(500)},
		{ImageID: 1, CategoryID: 2, BBox: box(200)},
		{ImageID: 1, CategoryID: 3, BBox: box(400)},
	})
	dets := []coco.Detection{
		{ImageID: 1, CategoryID: 1, BBox: box(0), Score: 0.9},
		{ImageID: 1, CategoryID: 1, BBox: coco.Box{600, 600, 10, 10}, Score: 0.85},
		{ImageID: 1, CategoryID: 1, BBox: box(400), Score: 0.8},
		{ImageID: 1, CategoryID: 1, BBox: box(200), Score: 0.75},
		{ImageID: 1, CategoryID: 1, BBox: box(102), Score: 0.7},
		{ImageID: 1, CategoryID: 1, BBox: box(305), Score: 0.6},
	}
	for i := range dets {
		dets[i].ID, dets[i].Area = int64(i+1), dets[i].BBox.Area()
	}
	return gt, dets
}

// step is an enveloped PR curve known by hand: precision ps[i] for recall
// thresholds up to rs[i], 0 beyond the last.
func step(recall []float64, rs, ps []float64) []float64 {
	out := make([]float64, len(recall))
	for r, thr := range recall {
		for i := range rs {
			if thr <= rs[i] {
				out[r] = ps[i]
				break
			}
		}
	}
	return out
}

func TestErrorCurvesOfHandMadeCase(t *testing.T) {
	gt, dets := errorCase(t)
	ec, err := AnalyzeErrors(context.Background(), gt, dets, coco.BBox, nil)
	if err != nil {
		t.Fatal(err)
	}
	R := ec.Recall
	// Recall steps by 1/4 per object of a found; each curve is the best
	// precision at that recall or more.
	want := [NumKinds][]float64{
		C75: step(R, []float64{0.25}, []float64{1}),
		C50: step(R, []float64{0.25, 0.5}, []float64{1, 0.4}),   // 2 of 5
		Loc: step(R, []float64{0.25, 0.75}, []float64{1, 0.5}),  // 3 of 6
		Sim: step(R, []float64{0.25, 0.75}, []float64{1, 0.6}),  // d4 ignored: 3 of 5
		Oth: step(R, []float64{0.25, 0.75}, []float64{1, 0.75}), // d3, d4 ignored: 3 of 4
		BG:  step(R, []float64{0.75}, []float64{1}),
		FN:  step(R, []float64{1}, []float64{1}),
	}
	small := indexOfLabel(t, ec.Areas, "small")
	large := indexOfLabel(t, ec.Areas, "large")
	for kind := range NumKinds {
		for _, a := range []int{0, small} {
			if !equal(ec.Precision[kind][0][a], want[kind]) {
				t.Errorf("%s, area %s: got %v\nwant %v", KindNames[kind], ec.Areas[a], ec.Precision[kind][0][a], want[kind])
			}
		}
		// b and c have objects but no detections; no object is large.
		for k, a := range map[int]int{1: 0, 2: 0, 0: large} {
			wantZero := kind != FN
			if got := ec.Precision[kind][k][a]; wantZero && AP(got) != 0 {
				t.Errorf("%s, category %s, area %s: AP %v, want 0", KindNames[kind], ec.Categories[k].Name, ec.Areas[a], AP(got))
			}
		}
	}
	if got, want := AP(ec.Mean(C50, 0)), AP(want[C50])/3; math.Abs(got-want) > 1e-12 {
		t.Errorf("mean C50 AP over 3 categories = %v, want %v", got, want)
	}
}

func TestErrorCurvesRejectProposals(t *testing.T) {
	gt, dets := errorCase(t)
	if _, err := AnalyzeErrors(context.Background(), gt, dets, coco.Proposal, nil); err == nil {
		t.Fatal("proposal error analysis: want an error")
	}
}

func indexOfLabel(t *testing.T, labels []string, l string) int {
	for i, x := range labels {
		if x == l {
			return i
		}
	}
	t.Fatalf("no area %q in %v", l, labels)
	return -1
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			return false
		}
	}
	return true
}

func TestConfusionMatrixOfFixture(t *testing.T) {
	gt := mustDataset(t, []coco.Annotation{
		{ImageID: 1, CategoryID: 1, BBox: box(0)},
		{ImageID: 1, CategoryID: 2, BBox: box(100)},
		{ImageID: 1, CategoryID: 3, BBox: box(200)},
		{ImageID: 2, CategoryID: 1, BBox: box(0)},
		{ImageID: 2, CategoryID: 3, BBox: coco.Box{300, 300, 50, 50}, IsCrowd: true},
	})
	dets := []coco.Detection{
		{ImageID: 1, CategoryID: 1, BBox: box(0), Score: 0.9},                     // a on a
		{ImageID: 1, CategoryID: 1, BBox: box(101), Score: 0.8},                   // a on b
		{ImageID: 1, CategoryID: 2, BBox: box(100), Score: 0.2},                   // below the score: left out
		{ImageID: 1, CategoryID: 3, BBox: box(600), Score: 0.7},                   // c on background
		{ImageID: 2, CategoryID: 2, BBox: box(3), Score: 0.6},                     // b on a, IoU 7/13 >= .5
		{ImageID: 2, CategoryID: 3, BBox: coco.Box{310, 310, 10, 10}, Score: 0.9}, // inside the crowd: left out
		{ImageID: 2, CategoryID: 1, BBox: box(6), Score: 0.9},                     // IoU 4/16: not on a
	}
	for i := range dets {
		dets[i].ID = int64(i + 1)
	}
	c, err := ConfusionMatrix(gt, dets, 0.3, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int64{
		// a  b  c  missed
		{1, 1, 0, 1}, // a: image 2's a found by no a (a b on it, an a too far off)
		{1, 0, 0, 1}, // b: the a on it
		{0, 0, 0, 1}, // c
		{1, 0, 1, 0}, // background: image 2's loose a, image 1's c
	}
	for i := range want {
		for j := range want[i] {
			if c.Counts[i][j] != want[i][j] {
				t.Fatalf("counts = %v, want %v", c.Counts, want)
			}
		}
	}
	n := c.Normalised()
	if n[1][0] != 0.5 || n[3][2] != 0.5 || n[2][3] != 1 {
		t.Errorf("normalised = %v", n)
	}
	if got := c.Labels(); got[3] != "background" || got[0] != "a" {
		t.Errorf("labels = %v", got)
	}
}

func TestConfusionMatrixRejectsUnknownImage(t *testing.T) {
	gt := mustDataset(t, []coco.Annotation{{ImageID: 1, CategoryID: 1, BBox: box(0)}})
	if _, err := ConfusionMatrix(gt, []coco.Detection{{ID: 1, ImageID: 9, CategoryID: 1, BBox: box(0), Score: 1}}, 0.3, 0.5); err == nil {
		t.Fatal("detection on image 9: want an error")
	}
}

func TestImageAPsRankImages(t *testing.T) {
	gt := mustDataset(t, []coco.Annotation{
		{ImageID: 1, CategoryID: 1, BBox: box(0)},
		{ImageID: 1, CategoryID: 1, BBox: box(100)},
	})
	dets := []coco.Detection{
		{ID: 1, ImageID: 1, CategoryID: 1, BBox: box(0), Score: 0.9},
		{ID: 2, ImageID: 2, CategoryID: 1, BBox: box(0), Score: 0.9},
	}
	aps, err := ImageAPs(context.Background(), gt, dets, coco.BBox, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Image 1: one of two objects found exactly: precision 1 up to recall .5.
	if got, want := aps[1], 51.0/101; math.Abs(got-want) > 1e-12 {
		t.Errorf("AP of image 1 = %v, want %v", got, want)
	}
	if !math.IsNaN(aps[2]) {
		t.Errorf("AP of image 2 (no ground truth) = %v, want NaN", aps[2])
	}
}
