package gpu

import "fmt"

// Typed launchers for gpu/kernels/roi_align.cu and nms.cu.

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

// nmsBlock matches NMS_BLOCK in nms.cu.
const nmsBlock = 64

// NMSSorted runs NMS over n boxes (n×4 floats x1, y1, x2, y2 on the device)
// already sorted by descending score and returns the indices kept, in
// order. A box is dropped when a kept box before it has IoU > iouThreshold.
func (d *Device) NMSSorted(boxes DevPtr, n int, iouThreshold float32) ([]int, error) {
	if n == 0 {
		return nil, nil
	}
	cb := (n + nmsBlock - 1) / nmsBlock
	if cb > 65535 {
		return nil, fmt.Errorf("nms: %d boxes exceed the kernel's grid (at most %d)", n, 65535*nmsBlock)
	}
	mask, err := d.Alloc(8 * n * cb)
	if err != nil {
		return nil, err
	}
	defer d.Free(mask)
	if err := d.Memset32(mask, 0, 2*n*cb); err != nil {
		return nil, err
	}
	err = d.do(func() error {
		return d.launch(kNMSMask, dim3{uint32(cb), uint32(cb), 1}, dim3{nmsBlock, 1, 1}, 0, mask, boxes, i32(n), iouThreshold)
	})
	if err != nil {
		return nil, err
	}
	host := make([]uint64, n*cb)
	if err := d.ReadUint64(host, mask); err != nil {
		return nil, fmt.Errorf("read nms mask: %w", err)
	}
	return nmsFromMask(host, n), nil
}
