package tensordev

import (
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// RoIAlign on the GPU: Device has the methods of detector.RoIAlignDevice
// (checked in roialign_test.go, to keep the detector package out of this
// one), so the detector's RoI extractor pools on the device instead of
// through tensor.Custom's host copies of every feature map.

// roiAlignGeom maps detection's geometry to the kernel's. The conventions
// agree (see detection.RoIAlignGeom); the kernel spells adaptive sampling 0
// only, and takes the scale as float32, exact for power-of-two scales.
func roiAlignGeom(g detection.RoIAlignGeom) gpu.RoIAlignGeom {
	return gpu.RoIAlignGeom{K: g.R, C: g.C, H: g.H, W: g.W, PH: g.OutH, PW: g.OutW,
		SpatialScale: float32(g.SpatialScale), SamplingRatio: max(g.SamplingRatio, 0), Aligned: g.Aligned}
}

func checkRoIAlignLens(what string, g detection.RoIAlignGeom, feat, rois, out tensor.Buffer) {
	checkLen(what+" features", g.FeatureLen(), feat.Len())
	checkLen(what+" rois", 5*g.R, rois.Len())
	checkLen(what+" pooled", g.OutLen(), out.Len())
}

// RoIAlignForward overwrites out [R,C,OutH,OutW] with RoIAlign of feat
// [N,C,H,W] over rois (R x 5, validated by the caller with g.Check: the
// kernel reads batch indices unchecked).
func (d *Device) RoIAlignForward(out, feat, rois tensor.Buffer, g detection.RoIAlignGeom) {
	checkRoIAlignLens("roi align", g, feat, rois, out)
	if g.OutLen() == 0 {
		return
	}
	must(d.g.RoIAlignFwd(ptr(out), ptr(feat), ptr(rois), roiAlignGeom(g)))
}

// RoIAlignBackward accumulates RoIAlign's feature gradient for dout into
// dfeat, which the caller zeroes; the kernel adds with atomics, so the last
// bits vary between runs.
func (d *Device) RoIAlignBackward(dfeat, dout, rois tensor.Buffer, g detection.RoIAlignGeom) {
	checkRoIAlignLens("roi align backward", g, dfeat, rois, dout)
	if g.OutLen() == 0 {
		return
	}
	must(d.g.RoIAlignBwd(ptr(dfeat), ptr(dout), ptr(rois), roiAlignGeom(g)))
}
