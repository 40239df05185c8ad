package detection

import (
	"math/rand/v2"
	"testing"
)

func TestMapRoILevels(t *testing.T) {
	roi := func(w, h float32) []float32 { return []float32{0, 10, 10, 10 + w, 10 + h} }
	for _, tc := range []struct {
		name   string
		roi    []float32
		legacy bool
		want   int
	}{
		{"tiny", roi(1, 1), false, 0},
		{"just below 112", roi(111.9, 111.9), false, 0},
		{"112 is level 1", roi(112, 112), false, 1},
		{"223", roi(223, 223), false, 1},
		{"224 is level 2", roi(224, 224), false, 2},
		{"448 is level 3", roi(448, 448), false, 3},
		{"huge clamps to 3", roi(2000, 2000), false, 3},
		{"non-square 56x224 has sqrt area 112", roi(56, 224), false, 1},
		{"legacy 111 + 1", roi(111, 111), true, 1},
		{"zero area", roi(0, 0), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MapRoILevels(tc.roi, 4, DefaultFinestScale, tc.legacy)
			equalInts(t, "level", got, []int{tc.want})
		})
	}
}

func TestMultiLevelRoIAlign(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	strides := []int{4, 8, 16, 32}
	imgH, imgW := 256, 320
	var levels []FeatureMap
	for _, s := range strides {
		levels = append(levels, randomFeature(rng, 2, 3, imgH/s, imgW/s))
	}
	rois := randomRoIs(rng, 40, 2, float32(imgH), float32(imgW), 4, 500)
	cfg := RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 1, SamplingRatio: 0, Aligned: true}
	out, lvl, err := MultiLevelRoIAlign(levels, strides, rois, cfg, DefaultFinestScale, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	bins := 49 * 3
	for i, l := range lvl {
		seen[l] = true
		one := cfg
		one.SpatialScale = 1 / float64(strides[l])
		want, err := RoIAlign(levels[l], rois[5*i:5*i+5], one)
		if err != nil {
			t.Fatal(err)
		}
		allClose(t, "roi", out[i*bins:(i+1)*bins], want, 0, 0)
	}
	if len(seen) < 3 {
		t.Errorf("only levels %v used; the test should cover most levels", seen)
	}
	gout := randomFeature(rng, 40, 3, 7, 7).Data
	grads, err := MultiLevelRoIAlignBackward(gout, levels, strides, rois, lvl, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Adjoint check: <gout, f(x)> == sum over levels of <grad_l, x_l>.
	var lhs, rhs float64
	for i, v := range out {
		lhs += float64(v) * float64(gout[i])
	}
	for l, g := range grads {
		for k, v := range g {
			rhs += float64(v) * float64(levels[l].Data[k])
		}
	}
	if d := lhs - rhs; d > 1e-3 || d < -1e-3 {
		t.Errorf("<gout, f(x)> = %g but <grad, x> = %g", lhs, rhs)
	}
}
