package gpu

import "fmt"

// Typed launchers for gpu/kernels/avgpool.cu. Unlike max pooling, the
// average kernels accept any padding (a window entirely in the padding
// averages to 0, as in tensor.CPU).

func (g PoolGeom) checkAvg() error {
	if g.NC < 0 || g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 ||
		g.PadH < 0 || g.PadW < 0 {
		return fmt.Errorf("avg pool geometry %+v: sizes and strides must be positive, pads >= 0", g)
	}
	return nil
}

// AvgPoolFwd writes y [NC,OH,OW], the mean of each window counting padded
// taps as zeros (count_include_pad=True).
func (d *Device) AvgPoolFwd(y, x DevPtr, g PoolGeom) error {
	if err := g.checkAvg(); err != nil {
		return err
	}
	if g.OH() <= 0 || g.OW() <= 0 {
		return nil
	}
	return d.launch1D(kAvgPoolFwd, int(i32(g.NC*g.OH()*g.OW())), append([]any{y, x}, g.args()...)...)
}

// AvgPoolBwd overwrites dx [NC,H,W] with AvgPoolFwd's adjoint.
func (d *Device) AvgPoolBwd(dx, dy DevPtr, g PoolGeom) error {
	if err := g.checkAvg(); err != nil {
		return err
	}
	if g.OH() <= 0 || g.OW() <= 0 {
		return d.Fill(dx, 0, g.NC*g.H*g.W)
	}
	return d.launch1D(kAvgPoolBwd, int(i32(g.NC*g.H*g.W)), append([]any{dx, dy}, g.args()...)...)
}

// AdaptiveAvgPoolFwd averages x [NC,H,W] into y [NC,OH,OW] over PyTorch's
// adaptive windows.
func (d *Device) AdaptiveAvgPoolFwd(y, x DevPtr, nc, h, w, oh, ow int) error {
	if h <= 0 || w <= 0 || oh <= 0 || ow <= 0 {
		return fmt.Errorf("adaptive avg pool %dx%d -> %dx%d: sizes must be positive", h, w, oh, ow)
	}
	return d.launch1D(kAdaptiveAvgPoolFwd, int(i32(nc*oh*ow)), y, x, i32(nc), i32(h), i32(w), i32(oh), i32(ow))
}

// AdaptiveAvgPoolBwd overwrites dx [NC,H,W] with AdaptiveAvgPoolFwd's
// adjoint.
func (d *Device) AdaptiveAvgPoolBwd(dx, dy DevPtr, nc, h, w, oh, ow int) error {
	if h <= 0 || w <= 0 || oh <= 0 || ow <= 0 {
		return fmt.Errorf("adaptive avg pool backward %dx%d -> %dx%d: sizes must be positive", h, w, oh, ow)
	}
	return d.launch1D(kAdaptiveAvgPoolBwd, int(i32(nc*h*w)), dx, dy, i32(nc), i32(h), i32(w), i32(oh), i32(ow))
}
