package detection

import (
	"math"
	"strings"
	"testing"
)

func TestRoIAlignGeomCheck(t *testing.T) {
	cfg := RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 0.25, SamplingRatio: 2, Aligned: true}
	good := RoIAlignGeom{N: 2, C: 3, H: 10, W: 12, R: 2, RoIAlignConfig: cfg}
	rois := []float32{0, 1, 2, 30, 20, 1, 0, 0, 5, 5}
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		geom    func(g RoIAlignGeom) RoIAlignGeom
		rois    []float32
		wantErr string // "" for valid
	}{
		{"valid", nil, rois, ""},
		{"no rois", func(g RoIAlignGeom) RoIAlignGeom { g.R = 0; return g }, nil, ""},
		{"row count", func(g RoIAlignGeom) RoIAlignGeom { g.R = 3; return g }, rois, "10 roi values for 3 rois"},
		{"batch index", nil, []float32{0, 1, 2, 3, 4, 2, 1, 2, 3, 4}, "roi 1: batch index 2 outside [0, 2)"},
		{"not finite", nil, []float32{0, 1, nan, 3, 4, 0, 1, 2, 3, 4}, "roi 0: coordinate NaN is not finite"},
		{"output size", func(g RoIAlignGeom) RoIAlignGeom { g.OutW = 0; return g }, rois, "output size 7x0"},
		{"scale", func(g RoIAlignGeom) RoIAlignGeom { g.SpatialScale = 0; return g }, rois, "spatial scale 0 must be positive"},
		{"negative shape", func(g RoIAlignGeom) RoIAlignGeom { g.C = -1; return g }, rois, "negative feature map shape"},
		{"empty map", func(g RoIAlignGeom) RoIAlignGeom { g.H = 0; return g }, rois, "2 rois pooled from an empty 0x12 map"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := good
			if tc.geom != nil {
				g = tc.geom(g)
			}
			err := g.Check(tc.rois)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Check: error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestRoIAlignGeomLengths(t *testing.T) {
	g := RoIAlignGeom{N: 2, C: 3, H: 10, W: 12, R: 5, RoIAlignConfig: RoIAlignConfig{OutH: 7, OutW: 6}}
	if got := g.FeatureLen(); got != 2*3*10*12 {
		t.Errorf("FeatureLen = %d, want %d", got, 2*3*10*12)
	}
	if got := g.OutLen(); got != 5*3*7*6 {
		t.Errorf("OutLen = %d, want %d", got, 5*3*7*6)
	}
}
