package gpu

import "fmt"

// Typed launchers for gpu/kernels/roi_align.cu.

func (g RoIAlignGeom) check() error {
	if g.K < 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || g.PH <= 0 || g.PW <= 0 || g.SamplingRatio < 0 || g.SpatialScale <= 0 {
		return fmt.Errorf("roi align geometry %+v: sizes and scale must be positive, sampling ratio >= 0", g)
	}
	return nil
}

func (g RoIAlignGeom) args() []any {
	return []any{i32(g.K), i32(g.C), i32(g.H), i32(g.W), i32(g.PH), i32(g.PW), g.SpatialScale,
		i32(g.SamplingRatio), b32(g.Aligned)}
}

// RoIAlignFwd pools the K boxes in rois (K×5: batch index, x1, y1, x2, y2)
// from input [N,C,H,W] into out [K,C,PH,PW].
func (d *Device) RoIAlignFwd(out, input, rois DevPtr, g RoIAlignGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kRoIAlignFwd, g.OutSize(), append([]any{out, input, rois}, g.args()...)...)
}

// RoIAlignBwd accumulates the gradient of RoIAlignFwd into dinput, which
// the caller zeroes first (atomicAdd: the last bits vary between runs).
func (d *Device) RoIAlignBwd(dinput, dout, rois DevPtr, g RoIAlignGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kRoIAlignBwd, g.OutSize(), append([]any{dinput, dout, rois}, g.args()...)...)
}
