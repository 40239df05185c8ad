package detection

import (
	"testing"

	"github.com/detflow/detflow/detection/detectiontest"
)

// The CPU ops against the independent references of detectiontest; a GPU
// backend runs the same suite.

func TestConformanceNMS(t *testing.T) {
	detectiontest.CheckNMS(t, func(boxes, scores []float32, thr float64) []int {
		return NMS(boxes, scores, thr, false)
	})
}

func toConfig(p detectiontest.RoIAlignParams) RoIAlignConfig {
	return RoIAlignConfig{OutH: p.OutH, OutW: p.OutW, SpatialScale: p.SpatialScale, SamplingRatio: p.SamplingRatio, Aligned: p.Aligned}
}

func TestConformanceRoIAlign(t *testing.T) {
	detectiontest.CheckRoIAlign(t,
		func(data []float32, n, c, h, w int, rois []float32, p detectiontest.RoIAlignParams) ([]float32, error) {
			return RoIAlign(FeatureMap{Data: data, N: n, C: c, H: h, W: w}, rois, toConfig(p))
		},
		func(gout []float32, n, c, h, w int, rois []float32, p detectiontest.RoIAlignParams) ([]float32, error) {
			return RoIAlignBackward(gout, FeatureMap{N: n, C: c, H: h, W: w}, rois, toConfig(p))
		},
		// Same operations in the same order as the references: exact.
		detectiontest.Tolerance{})
}
