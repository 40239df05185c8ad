package detection

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The benchmark sizes match testdata/bench_torchvision_ops.py: one image of
// 1333x800 padded to 1344x800, a 256-channel FPN level at stride 4..32, 1000
// RoIs whose sizes map to that level (sqrt area in [112*2^(l-1), 112*2^l),
// level 0 from 32 px), output 7x7, aligned.

const (
	benchImgH, benchImgW = 800, 1344
	benchChannels        = 256
	benchRoIs            = 1000
)

// benchLoop runs fn b.N times and reports, beside the wall time, the process
// CPU time per iteration ("cpu-ns/op"; all goroutines, so about twice the wall
// time with 2 busy workers). On a shared machine CPU time is the steadier one.
func benchLoop(b *testing.B, fn func() error) {
	b.Helper()
	start, n := processCPUTime(), 0
	for b.Loop() {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(processCPUTime()-start)/float64(n), "cpu-ns/op")
	}
}

// benchLevelRoIs returns n rois whose sqrt(area) lies in [lo, hi) pixels.
func benchLevelRoIs(rng *rand.Rand, n int, lo, hi float64) []float32 {
	out := make([]float32, 0, 5*n)
	for range n {
		s := lo + rng.Float64()*(hi-lo)
		ratio := math.Exp((rng.Float64() - 0.5) * math.Log(4)) // h/w in [0.5, 2)
		w, h := s/math.Sqrt(ratio), s*math.Sqrt(ratio)
		cx, cy := rng.Float64()*benchImgW, rng.Float64()*benchImgH
		out = append(out, 0, float32(cx-w/2), float32(cy-h/2), float32(cx+w/2), float32(cy+h/2))
	}
	return out
}

func benchLevelRange(stride int) (lo, hi float64) {
	switch stride {
	case 4:
		return 32, 112
	case 8:
		return 112, 224
	case 16:
		return 224, 448
	default:
		return 448, 800
	}
}

func benchSetup(stride int) (FeatureMap, []float32) {
	rng := rand.New(rand.NewPCG(uint64(stride), 1))
	feat := randomFeature(rng, 1, benchChannels, benchImgH/stride, benchImgW/stride)
	lo, hi := benchLevelRange(stride)
	return feat, benchLevelRoIs(rng, benchRoIs, lo, hi)
}

func benchConfig(stride, sr, workers int) RoIAlignConfig {
	return RoIAlignConfig{OutH: 7, OutW: 7, SpatialScale: 1 / float64(stride), SamplingRatio: sr, Aligned: true, Workers: workers}
}

func BenchmarkRoIAlignForward(b *testing.B) {
	for _, sr := range []int{2, 0} {
		for _, stride := range []int{4, 8, 16, 32} {
			b.Run(fmt.Sprintf("sr=%d/stride=%d", sr, stride), func(b *testing.B) {
				feat, rois := benchSetup(stride)
				cfg := benchConfig(stride, sr, 0)
				benchLoop(b, func() error { _, err := RoIAlign(feat, rois, cfg); return err })
			})
		}
	}
}

func BenchmarkRoIAlignBackward(b *testing.B) {
	for _, sr := range []int{2, 0} {
		for _, stride := range []int{4, 8, 16, 32} {
			b.Run(fmt.Sprintf("sr=%d/stride=%d", sr, stride), func(b *testing.B) {
				feat, rois := benchSetup(stride)
				cfg := benchConfig(stride, sr, 0)
				gout := make([]float32, benchRoIs*benchChannels*49)
				for i := range gout {
					gout[i] = float32(i%7) - 3
				}
				benchLoop(b, func() error { _, err := RoIAlignBackward(gout, feat, rois, cfg); return err })
			})
		}
	}
}

// BenchmarkRoIAlignOneWorker runs forward and backward on one goroutine, to
// compare per core with torchvision's CPU kernels, which are single-threaded.
func BenchmarkRoIAlignOneWorker(b *testing.B) {
	for _, stride := range []int{4, 16} {
		feat, rois := benchSetup(stride)
		cfg := benchConfig(stride, 2, 1)
		b.Run(fmt.Sprintf("forward/sr=2/stride=%d", stride), func(b *testing.B) {
			benchLoop(b, func() error { _, err := RoIAlign(feat, rois, cfg); return err })
		})
		gout := make([]float32, benchRoIs*benchChannels*49)
		b.Run(fmt.Sprintf("backward/sr=2/stride=%d", stride), func(b *testing.B) {
			benchLoop(b, func() error { _, err := RoIAlignBackward(gout, feat, rois, cfg); return err })
		})
	}
}

// BenchmarkRoIAlignReference is the naive baseline (one goroutine, every value
// from scratch) at stride 16.
func BenchmarkRoIAlignReference(b *testing.B) {
	feat, rois := benchSetup(16)
	cfg := benchConfig(16, 2, 1)
	benchLoop(b, func() error { referenceRoIAlign(feat, rois, cfg); return nil })
}
