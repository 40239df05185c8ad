package detector

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/tensor"
)

// TestRoIExtractorGradient checks the extractor's backward (through
// tensor.Custom) against central differences of L = Σ out·w, level by
// level. RoIAlign is linear in the features, so the differences are exact
// up to float32 rounding.
func TestRoIExtractorGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][]int{{2, 3, 8, 8}, {2, 3, 4, 4}}
	data := make([][]float32, len(shapes))
	for l, s := range shapes {
		data[l] = make([]float32, s[0]*s[1]*s[2]*s[3])
		for i := range data[l] {
			data[l][i] = 2*rng.Float32() - 1
		}
	}
	// finest scale 8: RoIs under 16 px go to level 0, larger ones to level 1.
	interleaved := []float32{
		0, 1, 2, 9, 11,
		1, 3.5, 0.5, 30, 28,
		0, 10, 12, 20, 19,
		1, 0, 0, 31, 31,
	}
	// The same RoIs sorted by level: each level's rows are used in place.
	sorted := slices.Concat(interleaved[0:5], interleaved[10:15], interleaved[5:10], interleaved[15:20])
	for _, tc := range []struct {
		name    string
		ratio   int
		aligned bool
		rois    []float32
	}{
		{"ratio 2", 2, false, interleaved},
		{"adaptive aligned", 0, true, interleaved},
		{"sorted by level", 2, false, sorted},
	} {
		rois := tc.rois
		t.Run(tc.name, func(t *testing.T) {
			x := NewRoIExtractor(RoIExtractorOptions{OutputSize: 3, SamplingRatio: tc.ratio, Aligned: tc.aligned, Strides: []int{4, 8}, FinestScale: 8})
			e := newEngine()
			levels := make([]*tensor.Tensor, len(shapes))
			for l, s := range shapes {
				levels[l] = e.FromData(data[l], s...).SetRequiresGrad(true)
			}
			out, err := x.Forward(levels, rois)
			if err != nil {
				t.Fatal(err)
			}
			if want := []int{4, 3, 3, 3}; !slices.Equal(out.Shape(), want) {
				t.Fatalf("shape %v, want %v", out.Shape(), want)
			}
			// The forward pass is detection's MultiLevelRoIAlign, in RoI order.
			fm := make([]detection.FeatureMap, len(shapes))
			for l, s := range shapes {
				fm[l] = detection.FeatureMap{Data: data[l], N: s[0], C: s[1], H: s[2], W: s[3]}
			}
			cfg := detection.RoIAlignConfig{OutH: 3, OutW: 3, SpatialScale: 1, SamplingRatio: tc.ratio, Aligned: tc.aligned}
			want, _, err := detection.MultiLevelRoIAlign(fm, []int{4, 8}, rois, cfg, 8, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.Data(), want) {
				t.Fatal("forward differs from detection.MultiLevelRoIAlign")
			}
			w := make([]float32, out.Len())
			for i := range w {
				w[i] = 2*rng.Float32() - 1
			}
			tensor.Sum(tensor.Mul(out, e.FromData(w, out.Shape()...))).Backward()
			loss := func(d [][]float32) float64 {
				maps := make([]detection.FeatureMap, len(shapes))
				for l, s := range shapes {
					maps[l] = detection.FeatureMap{Data: d[l], N: s[0], C: s[1], H: s[2], W: s[3]}
				}
				cfg := detection.RoIAlignConfig{OutH: 3, OutW: 3, SpatialScale: 1, SamplingRatio: tc.ratio, Aligned: tc.aligned}
				o, _, err := detection.MultiLevelRoIAlign(maps, []int{4, 8}, rois, cfg, 8, false)
				if err != nil {
					t.Fatal(err)
				}
				var s float64
				for i, v := range o {
					s += float64(v) * float64(w[i])
				}
				return s
			}
			for l := range shapes {
				g := levels[l].Grad()
				if g == nil {
					t.Fatalf("level %d: no gradient", l)
				}
				got := g.Data()
				nonzero := 0
				for i := range data[l] {
					const h = 0.25
					p := [][]float32{slices.Clone(data[0]), slices.Clone(data[1])}
					p[l][i] += h
					up := loss(p)
					p[l][i] -= 2 * h
					num := (up - loss(p)) / (2 * h)
					if math.Abs(float64(got[i])-num) > 1e-4*(1+math.Abs(num)) {
						t.Fatalf("level %d grad[%d] = %g, numeric %g", l, i, got[i], num)
					}
					if got[i] != 0 {
						nonzero++
					}
				}
				if nonzero == 0 {
					t.Errorf("level %d: all-zero gradient; the test RoIs should reach it", l)
				}
			}
		})
	}
}
