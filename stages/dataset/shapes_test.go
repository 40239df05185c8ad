package dataset

import (
	"math"
	"testing"
)

// TestCrescentArea compares the crescent polygon's area with the analytic
// one: the unit disk minus its lens-shaped overlap with the cut disk.
func TestCrescentArea(t *testing.T) {
	d, r := crescentOffset, crescentCut
	// Lens area of two circles with radii 1 and r at distance d.
	a1 := math.Acos((d*d + 1 - r*r) / (2 * d))
	a2 := math.Acos((d*d + r*r - 1) / (2 * d * r))
	lens := a1 + r*r*a2 - 0.5*math.Sqrt((-d+1+r)*(d+1-r)*(d-1+r)*(d+1+r))
	want := math.Pi - lens
	got := math.Abs(shoelace(crescentPolygon()))
	if math.Abs(got-want) > 0.01*want {
		t.Errorf("crescent area %.4f, want %.4f", got, want)
	}
	// The thickest part is on the left: (-0.9, 0) is inside, (0.9, 0) is not.
	s := newShape(shapeParams{kind: crescent, r: 1})
	if !s.inside(-0.9, 0) || s.inside(0.9, 0) || s.inside(0, 0) {
		t.Error("crescent inside test disagrees with its geometry")
	}
}

func TestShapeAreas(t *testing.T) {
	// Rasterised pixel counts match the analytic area factor, so requested
	// sizes (and COCO size ranges) come out as planned.
	for k := range numShapes {
		p := shapeParams{kind: k, cx: 100, cy: 100, r: 60, theta: 0.3, aspect: 0.5}
		m := rasterize(newShape(p), 200, 200)
		n := 0
		for _, c := range m.cov {
			if c >= 0.5 {
				n++
			}
		}
		want := shapeAreaFactor(k, p.aspect) * p.r * p.r
		if d := float64(n)/want - 1; d > 0.02 || d < -0.02 {
			t.Errorf("%v: %d pixels, area %.0f (%.1f%% off)", k, n, want, 100*d)
		}
	}
}
