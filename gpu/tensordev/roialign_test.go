package tensordev

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/tensor"
)

// The detector's RoI extractor pools on the GPU only through this interface.
var _ detector.RoIAlignDevice = (*Device)(nil)

// closeTo fails t for the first few elements outside atol + rtol·|want|.
func closeTo(t *testing.T, name string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, cpu %v", name, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d mismatches", name, bad, len(want))
	}
}

// roiAlignTestRoIs makes r RoIs over an image of imgH x imgW for a batch of
// n, a few smaller than a pixel of the coarsest map and some partly outside
// the image. Coordinates are multiples of 1/8, so scaled by a power-of-two
// stride they stay exact and a fused multiply-add on the GPU cannot move a
// RoI's size across an integer of the adaptive sampling grid.
func roiAlignTestRoIs(rng *rand.Rand, r, n int, imgH, imgW, maxSide float64) []float32 {
	eighth := func(v float64) float32 { return float32(math.Round(v*8) / 8) }
	rois := make([]float32, 0, 5*r)
	for i := range r {
		cx, cy := (1.2*rng.Float64()-0.1)*imgW, (1.2*rng.Float64()-0.1)*imgH
		w, h := 1+rng.Float64()*maxSide, 1+rng.Float64()*maxSide
		if i%9 == 0 {
			w, h = 0.3, 0.2
		}
		rois = append(rois, float32(i%n), eighth(cx-w/2), eighth(cy-h/2), eighth(cx+w/2), eighth(cy+h/2))
	}
	return rois
}

// TestGPURoIAlignMatchesDetection compares Device's RoIAlign methods with
// detection's CPU RoIAlign, the semantics the detector relies on, on random
// maps and RoIs: sampling ratio 0 and 2, aligned on and off, strides 4 and 16.
func TestGPURoIAlignMatchesDetection(t *testing.T) {
	d := device(t)
	cpu := tensor.NewCPU(0)
	const n, c, h, w, r = 2, 8, 25, 38, 37
	for _, stride := range []int{4, 16} {
		for _, ratio := range []int{0, 2} {
			for _, aligned := range []bool{false, true} {
				t.Run(fmt.Sprintf("stride %d/ratio %d/aligned %v", stride, ratio, aligned), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(stride), uint64(ratio)))
					cfg := detection.RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 1 / float64(stride), SamplingRatio: ratio, Aligned: aligned}
					g := detection.RoIAlignGeom{N: n, C: c, H: h, W: w, R: r, RoIAlignConfig: cfg}
					feat := randn(uint64(30+stride), g.FeatureLen())
					rois := roiAlignTestRoIs(rng, r, n, float64(h*stride), float64(w*stride), float64(12*stride))
					if err := g.Check(rois); err != nil {
						t.Fatal(err)
					}
					fm := detection.FeatureMap{Data: feat, N: n, C: c, H: h, W: w}
					want, err := detection.RoIAlign(fm, rois, cfg)
					if err != nil {
						t.Fatal(err)
					}
					pf, pr := newPair(d, cpu, feat), newPair(d, cpu, rois)
					po := newPair(d, cpu, make([]float32, g.OutLen()))
					defer func() {
						for _, p := range []pair{pf, pr, po} {
							d.Free(p.g)
						}
					}()
					d.RoIAlignForward(po.g, pf.g, pr.g, g)
					got := make([]float32, g.OutLen())
					d.Download(got, po.g)
					closeTo(t, "roi align", got, want, 1e-5, 1e-4)

					dout := randn(uint64(40+stride), g.OutLen())
					wantGrad, err := detection.RoIAlignBackward(dout, fm, rois, cfg)
					if err != nil {
						t.Fatal(err)
					}
					// Start from ones: the backward pass accumulates.
					d.Upload(po.g, dout)
					d.Fill(pf.g, 1)
					d.RoIAlignBackward(pf.g, po.g, pr.g, g)
					gotGrad := make([]float32, g.FeatureLen())
					d.Download(gotGrad, pf.g)
					for i := range wantGrad {
						wantGrad[i]++
					}
					closeTo(t, "roi align backward", gotGrad, wantGrad, 1e-5, 1e-4)
				})
			}
		}
	}
}

// TestGPURoIExtractorMatchesCPU runs the detector's RoI extractor, forward
// and backward, on an engine over the GPU and on the CPU engine: the GPU run
// must take the device path (no host fallback at all, so no feature map
// crosses to the host) and agree within float32 rounding.
func TestGPURoIExtractorMatchesCPU(t *testing.T) {
	device(t) // skips without a driver; each run below gets its own Device
	const batch, c, img = 2, 16, 256
	strides := []int{4, 8, 16, 32}
	rng := rand.New(rand.NewPCG(7, 8))
	data := make([][]float32, len(strides))
	shapes := make([][]int, len(strides))
	for l, s := range strides {
		shapes[l] = []int{batch, c, img / s, img / s}
		data[l] = randn(uint64(50+l), batch*c*(img/s)*(img/s))
	}
	// Sides up to 600 px: every level of finest scale 56 gets RoIs.
	rois := roiAlignTestRoIs(rng, 200, batch, img, img, 600)
	perLevel := make([]int, len(strides))
	for _, l := range detection.MapRoILevels(rois, len(strides), detection.DefaultFinestScale, false) {
		perLevel[l]++
	}
	if slices.Contains(perLevel, 0) {
		t.Fatalf("RoIs per level %v: every level should get some", perLevel)
	}
	for _, ratio := range []int{0, 2} {
		for _, aligned := range []bool{false, true} {
			t.Run(fmt.Sprintf("ratio %d/aligned %v", ratio, aligned), func(t *testing.T) {
				x := detector.NewRoIExtractor(detector.RoIExtractorOptions{SamplingRatio: ratio, Aligned: aligned, Strides: strides})
				dout := randn(60, 200*c*7*7)
				run := func(dev tensor.Device) (out []float32, grads [][]float32) {
					e := tensor.NewEngine(dev)
					defer e.Trim()
					defer e.ReleaseAll()
					levels := make([]*tensor.Tensor, len(strides))
					for l := range strides {
						levels[l] = e.FromData(data[l], shapes[l]...).SetRequiresGrad(true)
					}
					pooled, err := x.Forward(levels, rois)
					if err != nil {
						t.Fatal(err)
					}
					pooled.BackwardWith(e.FromData(dout, pooled.Shape()...))
					for _, lv := range levels {
						grads = append(grads, lv.Grad().Data())
					}
					return pooled.Data(), grads
				}
				wantOut, wantGrads := run(tensor.NewCPU(0))
				gd := device(t)
				gotOut, gotGrads := run(gd)
				if fb := gd.Fallbacks(); len(fb) > 0 {
					t.Errorf("host fallbacks on the device path: %v", fb)
				}
				closeTo(t, "pooled", gotOut, wantOut, 1e-5, 1e-4)
				for l := range strides {
					closeTo(t, fmt.Sprintf("level %d gradient", l), gotGrads[l], wantGrads[l], 1e-5, 1e-4)
				}
			})
		}
	}
}
