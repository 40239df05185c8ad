package detection

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/detection/detectiontest"
)

// referenceRoIAlign runs detectiontest's slow oracle, written independently
// from torchvision's definition.
func referenceRoIAlign(feat FeatureMap, rois []float32, cfg RoIAlignConfig) []float32 {
	return detectiontest.ReferenceRoIAlign(feat.Data, feat.N, feat.C, feat.H, feat.W, rois, toParams(cfg))
}

func referenceRoIAlignBackward(gradOut []float32, feat FeatureMap, rois []float32, cfg RoIAlignConfig) []float32 {
	return detectiontest.ReferenceRoIAlignBackward(gradOut, feat.N, feat.C, feat.H, feat.W, rois, toParams(cfg))
}

func toParams(cfg RoIAlignConfig) detectiontest.RoIAlignParams {
	return detectiontest.RoIAlignParams{OutH: cfg.OutH, OutW: cfg.OutW, SpatialScale: cfg.SpatialScale,
		SamplingRatio: cfg.SamplingRatio, Aligned: cfg.Aligned}
}

func randomFeature(rng *rand.Rand, n, c, h, w int) FeatureMap {
	f := FeatureMap{N: n, C: c, H: h, W: w, Data: make([]float32, n*c*h*w)}
	for i := range f.Data {
		f.Data[i] = float32(rng.NormFloat64())
	}
	return f
}

// randomRoIs returns R rois on an image of imgH x imgW pixels, some reaching
// outside it.
func randomRoIs(rng *rand.Rand, r, batch int, imgH, imgW, minWH, maxWH float32) []float32 {
	out := make([]float32, 0, 5*r)
	for range r {
		cx, cy := rng.Float32()*imgW, rng.Float32()*imgH
		w, h := minWH+rng.Float32()*(maxWH-minWH), minWH+rng.Float32()*(maxWH-minWH)
		out = append(out, float32(rng.IntN(batch)), cx-w/2, cy-h/2, cx+w/2, cy+h/2)
	}
	return out
}

func roiAlignConfigs() []RoIAlignConfig {
	var cfgs []RoIAlignConfig
	for _, aligned := range []bool{false, true} {
		for _, sr := range []int{0, 1, 2} {
			cfgs = append(cfgs, RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 0.25, SamplingRatio: sr, Aligned: aligned})
		}
	}
	cfgs = append(cfgs, RoIAlignConfig{OutH: 2, OutW: 3, SpatialScale: 1, SamplingRatio: 0, Aligned: true, Workers: 1})
	return cfgs
}

func TestRoIAlignMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	feat := randomFeature(rng, 2, 4, 13, 17)
	rois := randomRoIs(rng, 40, 2, 52, 68, 0.5, 60)
	for _, cfg := range roiAlignConfigs() {
		t.Run(fmt.Sprintf("aligned=%v/sr=%d/%dx%d", cfg.Aligned, cfg.SamplingRatio, cfg.OutH, cfg.OutW), func(t *testing.T) {
			got, err := RoIAlign(feat, rois, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Same float32 operations in the same order: bit-identical.
			allClose(t, "roi align", got, referenceRoIAlign(feat, rois, cfg), 0, 0)
		})
	}
}

func TestRoIAlignInvertedRoIs(t *testing.T) {
	// Large inverted RoIs make the adaptive grid negative (torchvision 0.14
	// raises an error there): no samples, output 0, nothing scattered back.
	rng := rand.New(rand.NewPCG(25, 25))
	feat := randomFeature(rng, 1, 2, 10, 10)
	rois := []float32{0, 30, 30, 5, 5, 0, 30, 5, 5, 30, 0, 5, 30, 30, 5}
	for _, cfg := range roiAlignConfigs() {
		got, err := RoIAlign(feat, rois, cfg)
		if err != nil {
			t.Fatal(err)
		}
		allClose(t, "inverted", got, referenceRoIAlign(feat, rois, cfg), 0, 0)
		gout := randomFeature(rng, 3, 2, cfg.OutH, cfg.OutW).Data
		grad, err := RoIAlignBackward(gout, feat, rois, cfg)
		if err != nil {
			t.Fatal(err)
		}
		allClose(t, "inverted backward", grad, referenceRoIAlignBackward(gout, feat, rois, cfg), 0, 0)
	}
}

func TestRoIAlignConstantFeature(t *testing.T) {
	// On a constant map every RoI well inside averages to the constant.
	f := FeatureMap{N: 1, C: 2, H: 8, W: 8, Data: make([]float32, 128)}
	for i := range f.Data {
		f.Data[i] = 3
	}
	out, err := RoIAlign(f, []float32{0, 4, 4, 20, 24}, RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 0.25, SamplingRatio: 2, Aligned: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if math.Abs(float64(v)-3) > 1e-6 {
			t.Fatalf("out[%d] = %g, want 3", i, v)
		}
	}
}

func TestRoIAlignErrors(t *testing.T) {
	f := FeatureMap{N: 1, C: 1, H: 2, W: 2, Data: make([]float32, 4)}
	cfg := RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 1}
	for _, tc := range []struct {
		name string
		f    FeatureMap
		rois []float32
		cfg  RoIAlignConfig
	}{
		{"bad batch index", f, []float32{1, 0, 0, 1, 1}, cfg},
		{"ragged rois", f, []float32{0, 0, 0, 1}, cfg},
		{"short data", FeatureMap{N: 1, C: 1, H: 2, W: 2, Data: make([]float32, 3)}, nil, cfg},
		{"zero output", f, nil, RoIAlignConfig{SpatialScale: 1}},
		{"infinite roi", f, []float32{0, 0, 0, float32(math.Inf(1)), 1}, cfg},
		{"nan roi", f, []float32{0, float32(math.NaN()), 0, 1, 1}, cfg},
	} {
		if _, err := RoIAlign(tc.f, tc.rois, tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := RoIAlignBackward(make([]float32, 3), f, []float32{0, 0, 0, 1, 1}, cfg); err == nil {
		t.Error("backward with wrong gradient size: no error")
	}
}

func TestRoIAlignBackwardMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	feat := randomFeature(rng, 2, 3, 9, 11)
	rois := randomRoIs(rng, 30, 2, 36, 44, 0.5, 40)
	for _, cfg := range roiAlignConfigs() {
		gout := randomFeature(rng, len(rois)/5, feat.C, cfg.OutH, cfg.OutW).Data
		got, err := RoIAlignBackward(gout, feat, rois, cfg)
		if err != nil {
			t.Fatal(err)
		}
		allClose(t, "backward", got, referenceRoIAlignBackward(gout, feat, rois, cfg), 0, 0)
	}
}

// RoIAlign is linear in the features, so finite differences are exact up to
// rounding: d<gout, f(x)>/dx_k = (L(x + e*δk) - L(x - e*δk)) / 2e.
func TestRoIAlignGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	feat := randomFeature(rng, 2, 2, 6, 7)
	rois := randomRoIs(rng, 12, 2, 24, 28, 0.5, 30)
	for _, cfg := range roiAlignConfigs() {
		gout := randomFeature(rng, len(rois)/5, feat.C, cfg.OutH, cfg.OutW).Data
		grad, err := RoIAlignBackward(gout, feat, rois, cfg)
		if err != nil {
			t.Fatal(err)
		}
		loss := func(f FeatureMap) float64 {
			out, err := RoIAlign(f, rois, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var s float64
			for i, v := range out {
				s += float64(v) * float64(gout[i])
			}
			return s
		}
		const eps = 0.5
		for k := range feat.Data {
			orig := feat.Data[k]
			feat.Data[k] = orig + eps
			lp := loss(feat)
			feat.Data[k] = orig - eps
			lm := loss(feat)
			feat.Data[k] = orig
			num := (lp - lm) / (2 * eps)
			if math.Abs(num-float64(grad[k])) > 1e-4+1e-3*math.Abs(num) {
				t.Fatalf("aligned=%v sr=%d: grad[%d] = %g, finite difference %g", cfg.Aligned, cfg.SamplingRatio, k, grad[k], num)
			}
		}
	}
}

func TestRoIAlignWorkersAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 24))
	feat := randomFeature(rng, 1, 8, 20, 20)
	rois := randomRoIs(rng, 50, 1, 80, 80, 2, 60)
	cfg := RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 0.25, SamplingRatio: 2, Aligned: true}
	gout := randomFeature(rng, 50, 8, 7, 7).Data
	one, many := cfg, cfg
	one.Workers, many.Workers = 1, 5
	a, _ := RoIAlign(feat, rois, one)
	b, _ := RoIAlign(feat, rois, many)
	allClose(t, "forward", b, a, 0, 0)
	ga, _ := RoIAlignBackward(gout, feat, rois, one)
	gb, _ := RoIAlignBackward(gout, feat, rois, many)
	allClose(t, "backward", gb, ga, 0, 0)
}

// TestRoIAlignIntoVariants: the variants writing into caller memory check
// its size, and the backward one adds to what is there.
func TestRoIAlignIntoVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	feat := randomFeature(rng, 1, 2, 6, 7)
	rois := randomRoIs(rng, 4, 1, 24, 28, 2, 20)
	cfg := RoIAlignConfig{OutH: 2, OutW: 2, SpatialScale: 0.25}
	if err := RoIAlignInto(make([]float32, 3), feat, rois, cfg); err == nil {
		t.Error("RoIAlignInto with a short output: no error")
	}
	gout := randomFeature(rng, 4, 2, 2, 2).Data
	want, err := RoIAlignBackward(gout, feat, rois, cfg)
	if err != nil {
		t.Fatal(err)
	}
	zeroed := make([]float32, len(feat.Data))
	if err := RoIAlignBackwardAdd(zeroed, gout, feat, rois, cfg); err != nil {
		t.Fatal(err)
	}
	allClose(t, "into zeros", zeroed, want, 0, 0)
	grad := make([]float32, len(feat.Data))
	for i := range grad {
		grad[i] = 1
	}
	if err := RoIAlignBackwardAdd(grad, gout, feat, rois, cfg); err != nil {
		t.Fatal(err)
	}
	for i := range grad {
		want[i]++
	}
	allClose(t, "into ones", grad, want, 1e-6, 0)
	if err := RoIAlignBackwardAdd(grad[1:], gout, feat, rois, cfg); err == nil {
		t.Error("RoIAlignBackwardAdd with a short gradient: no error")
	}
}
