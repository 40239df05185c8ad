package detection

import (
	"math/rand/v2"
	"testing"
)

func TestBoxConversions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		xyxy   []float32
		legacy bool
		xywh   []float32
	}{
		{"v2", []float32{10, 20, 30, 60, 0, 0, 0, 0}, false, []float32{10, 20, 20, 40, 0, 0, 0, 0}},
		{"legacy", []float32{10, 20, 30, 60, 0, 0, 0, 0}, true, []float32{10, 20, 21, 41, 0, 0, 1, 1}},
		{"empty", []float32{}, false, []float32{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allClose(t, "xywh", XYXYToXYWH(tc.xyxy, tc.legacy), tc.xywh, 0, 0)
			allClose(t, "xyxy", XYWHToXYXY(tc.xywh, tc.legacy), tc.xyxy, 0, 0)
		})
	}
}

func TestBoxAreas(t *testing.T) {
	boxes := []float32{0, 0, 10, 5, 2, 2, 2, 2}
	allClose(t, "v2", BoxAreas(boxes, false), []float32{50, 0}, 0, 0)
	allClose(t, "legacy", BoxAreas(boxes, true), []float32{66, 1}, 0, 0)
}

func TestNumBoxesPanicsOnRaggedSlice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NumBoxes of 5 values did not panic")
		}
	}()
	NumBoxes(make([]float32, 5))
}

func TestBoxIoUAndIoF(t *testing.T) {
	for _, tc := range []struct {
		name   string
		a, b   []float32
		legacy bool
		iou    []float32
		iof    []float32
	}{
		{"identical", []float32{0, 0, 10, 10}, []float32{0, 0, 10, 10}, false, []float32{1}, []float32{1}},
		{"half", []float32{0, 0, 10, 10}, []float32{0, 0, 10, 5}, false, []float32{0.5}, []float32{0.5}},
		{"contained iof 1", []float32{2, 2, 4, 4}, []float32{0, 0, 10, 10}, false, []float32{0.04}, []float32{1}},
		{"disjoint", []float32{0, 0, 1, 1}, []float32{5, 5, 6, 6}, false, []float32{0}, []float32{0}},
		{"touching edges", []float32{0, 0, 1, 1}, []float32{1, 0, 2, 1}, false, []float32{0}, []float32{0}},
		// Legacy: the touching boxes share a pixel column: 1*2 / (4+4-2).
		{"touching legacy", []float32{0, 0, 1, 1}, []float32{1, 0, 2, 1}, true, []float32{2.0 / 6}, []float32{0.5}},
		{"degenerate gives 0 not NaN", []float32{3, 3, 3, 3}, []float32{3, 3, 3, 3}, false, []float32{0}, []float32{0}},
		{"2x3 matrix", []float32{0, 0, 10, 10, 5, 5, 15, 15}, []float32{0, 0, 10, 10, 5, 5, 15, 15, 100, 100, 101, 101}, false,
			[]float32{1, 25.0 / 175, 0, 25.0 / 175, 1, 0}, []float32{1, 0.25, 0, 0.25, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allClose(t, "iou", BoxIoU(tc.a, tc.b, tc.legacy), tc.iou, 1e-6, 1e-7)
			allClose(t, "iof", BoxIoF(tc.a, tc.b, tc.legacy), tc.iof, 1e-6, 1e-7)
		})
	}
}

func TestBoxIoUSymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a, b := randomBoxes(rng, 17, 50, 1, 30), randomBoxes(rng, 11, 50, 1, 30)
	ab, ba := BoxIoU(a, b, false), BoxIoU(b, a, false)
	for i := 0; i < 17; i++ {
		for j := 0; j < 11; j++ {
			if ab[i*11+j] != ba[j*17+i] {
				t.Fatalf("iou(a%d, b%d) = %g but iou(b%d, a%d) = %g", i, j, ab[i*11+j], j, i, ba[j*17+i])
			}
			if v := ab[i*11+j]; v < 0 || v > 1 {
				t.Fatalf("iou %g outside [0, 1]", v)
			}
		}
	}
}

func TestClipBoxes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []float32
		legacy bool
		want   []float32
	}{
		{"v2 clamps to width and height", []float32{-5, -1, 130, 90, 10, 10, 20, 20}, false, []float32{0, 0, 100, 80, 10, 10, 20, 20}},
		{"legacy clamps to width-1", []float32{-5, -1, 130, 90}, true, []float32{0, 0, 99, 79}},
		{"box fully outside collapses", []float32{120, 90, 150, 95}, false, []float32{100, 80, 100, 80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]float32(nil), tc.in...)
			ClipBoxes(b, 80, 100, tc.legacy)
			allClose(t, "clipped", b, tc.want, 0, 0)
		})
	}
}

func TestRemoveSmallBoxes(t *testing.T) {
	boxes := []float32{0, 0, 1, 1, 0, 0, 0.5, 4, 0, 0, 4, 4, 0, 0, 0, 0}
	for _, tc := range []struct {
		name   string
		min    float32
		rule   SizeRule
		legacy bool
		want   []int
	}{
		{"at least 1", 1, AtLeast, false, []int{0, 2}},
		{"greater than 1", 1, Greater, false, []int{2}},
		{"greater than 0 drops empty", 0, Greater, false, []int{0, 1, 2}},
		{"at least 0 keeps empty", 0, AtLeast, false, []int{0, 1, 2, 3}},
		{"legacy +1 widths", 1.5, AtLeast, true, []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			equalInts(t, "keep", RemoveSmallBoxes(boxes, tc.min, tc.rule, tc.legacy), tc.want)
		})
	}
}
