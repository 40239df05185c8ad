package gpu

import "fmt"

// Typed launchers for gpu/kernels/im2col.cu.

// Im2col writes the [C*KH*KW, OH*OW] column matrix of one [C,H,W] image.
func (d *Device) Im2col(col, im DevPtr, g ConvGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kIm2col, g.ColSize(), append([]any{col, im}, g.args()...)...)
}

// Col2im overwrites the [C,H,W] image with the sum of the column entries
// that read each pixel (the adjoint of Im2col).
func (d *Device) Col2im(im, col DevPtr, g ConvGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kCol2im, g.C*g.H*g.W, append([]any{im, col}, g.args()...)...)
}

func (g ConvGeom) check() error {
	if g.C <= 0 || g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 ||
		g.DilH <= 0 || g.DilW <= 0 || g.PadH < 0 || g.PadW < 0 || g.OH() <= 0 || g.OW() <= 0 {
		return fmt.Errorf("conv geometry %+v: sizes, strides and dilations must be positive, pads >= 0, output non-empty", g)
	}
	return nil
}

func (g ConvGeom) args() []any {
	return []any{i32(g.C), i32(g.H), i32(g.W), i32(g.KH), i32(g.KW), i32(g.PadH), i32(g.PadW),
		i32(g.StrideH), i32(g.StrideW), i32(g.DilH), i32(g.DilW), i32(g.OH()), i32(g.OW())}
}
