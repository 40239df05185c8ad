package coco

import (
	"math"
	"math/rand/v2"
	"testing"
)

// referenceIoU is the obvious corner-based formula, the oracle for boxIoU.
func referenceIoU(dt, gt Box, crowd bool) float64 {
	ix := math.Min(dt[0]+dt[2], gt[0]+gt[2]) - math.Max(dt[0], gt[0])
	iy := math.Min(dt[1]+dt[3], gt[1]+gt[3]) - math.Max(dt[1], gt[1])
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	if crowd {
		return inter / (dt[2] * dt[3])
	}
	return inter / (dt[2]*dt[3] + gt[2]*gt[3] - inter)
}

func TestBoxIoU(t *testing.T) {
	tests := []struct {
		name   string
		dt, gt Box
		crowd  bool
		want   float64
	}{
		{"identical", Box{10, 10, 20, 20}, Box{10, 10, 20, 20}, false, 1},
		{"half overlap", Box{0, 0, 10, 10}, Box{5, 0, 10, 10}, false, 50.0 / 150},
		{"touching edges", Box{0, 0, 10, 10}, Box{10, 0, 10, 10}, false, 0},
		{"disjoint", Box{0, 0, 1, 1}, Box{5, 5, 1, 1}, false, 0},
		{"inside crowd", Box{10, 10, 5, 5}, Box{0, 0, 100, 100}, true, 1},
		{"half in crowd", Box{-5, 0, 10, 10}, Box{0, 0, 100, 100}, true, 0.5},
		{"zero-area detection", Box{1, 1, 0, 0}, Box{0, 0, 5, 5}, false, 0},
		{"tiny", Box{0, 0, 0.5, 0.5}, Box{0.25, 0, 0.5, 0.5}, false, 0.125 / 0.375},
		{"huge", Box{0, 0, 99999, 99999}, Box{0, 0, 1e5, 1e5}, false, 99999.0 * 99999 / 1e10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := boxIoU(tt.dt, tt.gt, tt.crowd); math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("boxIoU = %.17g, want %.17g", got, tt.want)
			}
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 10000 {
		dt := Box{rng.Float64() * 100, rng.Float64() * 100, rng.Float64() * 60, rng.Float64() * 60}
		gt := Box{rng.Float64() * 100, rng.Float64() * 100, rng.Float64() * 60, rng.Float64() * 60}
		crowd := i%5 == 0
		if got, want := boxIoU(dt, gt, crowd), referenceIoU(dt, gt, crowd); got != want {
			t.Fatalf("boxIoU(%v, %v, %v) = %.17g, reference %.17g", dt, gt, crowd, got, want)
		}
	}
}
