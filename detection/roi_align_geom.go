package detection

import "fmt"

// RoIAlignGeom is the shape of one RoIAlign call for a backend that runs it
// on its own memory (a GPU kernel behind the detector's RoI extractor): R
// rois, rows of 5 values (batch index, x1, y1, x2, y2 in image pixels),
// pooled from an N x C x H x W map into R x C x OutH x OutW. The embedded
// config has RoIAlign's meaning exactly (Workers aside, which a backend
// ignores): a backend must compute what RoIAlign and RoIAlignBackward
// compute, up to float32 rounding.
//
// The CUDA kernel of package gpu (gpu.RoIAlignGeom, gpu/kernels/roi_align.cu)
// follows the same conventions: Aligned subtracts 0.5 after scaling and
// lifts the 1x1 minimum size; SamplingRatio <= 0 is adaptive,
// ceil(size/pooled) per bin side; samples more than one pixel outside the map
// read nothing, those within one pixel are clamped to the border; a bin
// averages over max(samples, 1). It takes the scale as float32, which equals
// RoIAlign's float64 arithmetic when SpatialScale is a power of two (every
// FPN stride).
type RoIAlignGeom struct {
	N, C, H, W int // feature map
	R          int // rois
	RoIAlignConfig
}

// FeatureLen is the number of feature-map values, N*C*H*W.
func (g RoIAlignGeom) FeatureLen() int { return g.N * g.C * g.H * g.W }

// OutLen is the number of pooled values, R*C*OutH*OutW.
func (g RoIAlignGeom) OutLen() int { return g.R * g.C * g.OutH * g.OutW }

// Check validates the geometry and the host copy of the rois as RoIAlign
// does. A backend kernel reads batch indices and coordinates unchecked, so
// callers run Check before handing it the uploaded rois.
func (g RoIAlignGeom) Check(rois []float32) error {
	if g.N < 0 || g.C < 0 || g.H < 0 || g.W < 0 {
		return fmt.Errorf("negative feature map shape %dx%dx%dx%d", g.N, g.C, g.H, g.W)
	}
	if g.R > 0 && (g.H == 0 || g.W == 0) {
		return fmt.Errorf("%d rois pooled from an empty %dx%d map", g.R, g.H, g.W)
	}
	if len(rois) != 5*g.R {
		return fmt.Errorf("%d roi values for %d rois", len(rois), g.R)
	}
	return checkRoIs(g.N, rois, g.RoIAlignConfig)
}
