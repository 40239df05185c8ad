package gpu

import "fmt"

// Typed launchers for gpu/kernels/maxpool.cu.

func (g PoolGeom) check() error {
	if g.NC <= 0 || g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 ||
		g.PadH < 0 || g.PadW < 0 || 2*g.PadH > g.KH || 2*g.PadW > g.KW || g.OH() <= 0 || g.OW() <= 0 {
		return fmt.Errorf("pool geometry %+v: sizes and strides must be positive, 0 <= pad <= kernel/2, output non-empty", g)
	}
	return nil
}

// MaxPoolFwd writes the pooled y and the int32 argmax (flat index in the
// input plane) used by MaxPoolBwd.
func (d *Device) MaxPoolFwd(y, argmax, x DevPtr, g PoolGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kMaxPoolFwd, g.NC*g.OH()*g.OW(), append([]any{y, argmax, x}, g.args()...)...)
}

// MaxPoolBwd overwrites dx with the gradient gathered through argmax.
func (d *Device) MaxPoolBwd(dx, dy, argmax DevPtr, g PoolGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kMaxPoolBwd, g.NC*g.H*g.W, append([]any{dx, dy, argmax}, g.args()...)...)
}
